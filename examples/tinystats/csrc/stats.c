/* tinystats._stats: statistics computed with tinyvec's C API (a consumer of
 * tinyvec/tinyvec.h, like an extension built against numpy). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <tinyvec/tinyvec.h>

#ifndef TINYSTATS_TINYVEC_VERSION
#define TINYSTATS_TINYVEC_VERSION "unknown"
#endif

static PyObject *
stats_mean_sq(PyObject *self, PyObject *args)
{
    PyObject *obj;
    double *x, result;
    Py_ssize_t n;

    (void)self;
    if (!PyArg_ParseTuple(args, "O:mean_sq", &obj))
        return NULL;
    if (tinyvec_from_sequence(obj, &x, &n) < 0)
        return NULL;
    if (n == 0) {
        tinyvec_free(x);
        PyErr_SetString(PyExc_ValueError, "mean_sq() of an empty sequence");
        return NULL;
    }
    result = tinyvec_dot(x, x, (size_t)n) / (double)n;
    tinyvec_free(x);
    return PyFloat_FromDouble(result);
}

static PyObject *
stats_cosine(PyObject *self, PyObject *args)
{
    PyObject *a_obj, *b_obj;
    double *a, *b, denominator, result;
    Py_ssize_t na, nb;

    (void)self;
    if (!PyArg_ParseTuple(args, "OO:cosine", &a_obj, &b_obj))
        return NULL;
    if (tinyvec_from_sequence(a_obj, &a, &na) < 0)
        return NULL;
    if (tinyvec_from_sequence(b_obj, &b, &nb) < 0) {
        tinyvec_free(a);
        return NULL;
    }
    if (na != nb) {
        tinyvec_free(a);
        tinyvec_free(b);
        PyErr_Format(PyExc_ValueError, "cosine(): lengths differ (%zd and %zd)", na, nb);
        return NULL;
    }
    denominator = tinyvec_norm(a, (size_t)na) * tinyvec_norm(b, (size_t)nb);
    if (denominator == 0.0) {
        tinyvec_free(a);
        tinyvec_free(b);
        PyErr_SetString(PyExc_ValueError, "cosine() of a zero vector");
        return NULL;
    }
    result = tinyvec_dot(a, b, (size_t)na) / denominator;
    tinyvec_free(a);
    tinyvec_free(b);
    return PyFloat_FromDouble(result);
}

static PyMethodDef stats_methods[] = {
    {"mean_sq", stats_mean_sq, METH_VARARGS, "mean_sq(x) -> float: mean of the squares of x."},
    {"cosine", stats_cosine, METH_VARARGS, "cosine(a, b) -> float: cosine similarity of a and b."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef stats_module = {
    PyModuleDef_HEAD_INIT,
    "tinystats._stats",
    "Statistics implemented with tinyvec's C API.",
    -1,
    stats_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__stats(void)
{
    PyObject *module;

    if (import_tinyvec() < 0)
        return NULL;
    module = PyModule_Create(&stats_module);
    if (module == NULL)
        return NULL;
    if (PyModule_AddIntConstant(module, "TINYVEC_API_VERSION", TINYVEC_API_VERSION) < 0 ||
        PyModule_AddStringConstant(module, "built_with_tinyvec", TINYSTATS_TINYVEC_VERSION) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
