/* tinyvec._core: the vector functions, for Python and, through the
 * "_C_API" capsule, for other C extensions (see tinyvec/tinyvec.h). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

#define TINYVEC_CORE_MODULE
#include "tinyvec/tinyvec.h"

static double
tv_dot(const double *a, const double *b, size_t n)
{
    double acc = 0.0;
    size_t i;
    for (i = 0; i < n; i++)
        acc += a[i] * b[i];
    return acc;
}

static double
tv_norm(const double *a, size_t n)
{
    return sqrt(tv_dot(a, a, n));
}

static int
tv_from_sequence(PyObject *obj, double **data, Py_ssize_t *len)
{
    PyObject *seq;
    Py_ssize_t i, n;
    double *buf;

    seq = PySequence_Fast(obj, "expected a sequence of numbers");
    if (seq == NULL)
        return -1;
    n = PySequence_Fast_GET_SIZE(seq);
    buf = (double *)PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (buf == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        double v = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, i));
        if (v == -1.0 && PyErr_Occurred()) {
            PyMem_Free(buf);
            Py_DECREF(seq);
            return -1;
        }
        buf[i] = v;
    }
    Py_DECREF(seq);
    *data = buf;
    *len = n;
    return 0;
}

static void
tv_free_data(double *data)
{
    PyMem_Free(data);
}

static const TinyvecAPI tinyvec_api_table = {
    TINYVEC_API_VERSION,
    tv_dot,
    tv_norm,
    tv_from_sequence,
    tv_free_data,
};

static PyObject *
core_dot(PyObject *self, PyObject *args)
{
    PyObject *a_obj, *b_obj;
    double *a, *b, result;
    Py_ssize_t na, nb;

    (void)self;
    if (!PyArg_ParseTuple(args, "OO:dot", &a_obj, &b_obj))
        return NULL;
    if (tv_from_sequence(a_obj, &a, &na) < 0)
        return NULL;
    if (tv_from_sequence(b_obj, &b, &nb) < 0) {
        PyMem_Free(a);
        return NULL;
    }
    if (na != nb) {
        PyMem_Free(a);
        PyMem_Free(b);
        PyErr_Format(PyExc_ValueError, "dot(): lengths differ (%zd and %zd)", na, nb);
        return NULL;
    }
    result = tv_dot(a, b, (size_t)na);
    PyMem_Free(a);
    PyMem_Free(b);
    return PyFloat_FromDouble(result);
}

static PyObject *
core_norm(PyObject *self, PyObject *args)
{
    PyObject *a_obj;
    double *a, result;
    Py_ssize_t n;

    (void)self;
    if (!PyArg_ParseTuple(args, "O:norm", &a_obj))
        return NULL;
    if (tv_from_sequence(a_obj, &a, &n) < 0)
        return NULL;
    result = tv_norm(a, (size_t)n);
    PyMem_Free(a);
    return PyFloat_FromDouble(result);
}

static PyMethodDef core_methods[] = {
    {"dot", core_dot, METH_VARARGS, "dot(a, b) -> float: sum of a[i] * b[i]."},
    {"norm", core_norm, METH_VARARGS, "norm(a) -> float: Euclidean norm of a."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    "tinyvec._core",
    "Vector functions implemented in C; C API in the _C_API capsule.",
    -1,
    core_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    PyObject *module, *capsule;

    module = PyModule_Create(&core_module);
    if (module == NULL)
        return NULL;
    if (PyModule_AddIntConstant(module, "API_VERSION", TINYVEC_API_VERSION) < 0)
        goto fail;
    capsule = PyCapsule_New((void *)&tinyvec_api_table, TINYVEC_CAPSULE_NAME, NULL);
    if (capsule == NULL)
        goto fail;
    if (PyModule_AddObject(module, "_C_API", capsule) < 0) {
        Py_DECREF(capsule);
        goto fail;
    }
    return module;

fail:
    Py_DECREF(module);
    return NULL;
}
