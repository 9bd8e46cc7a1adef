/*
 * tinyvec public C API.
 *
 * Another extension module uses it the way extensions use numpy's C API:
 *
 *     #include <tinyvec/tinyvec.h>      (include_dirs=[tinyvec.get_include()])
 *
 *     PyMODINIT_FUNC PyInit_mymod(void) {
 *         if (import_tinyvec() < 0)
 *             return NULL;
 *         ...
 *     }
 *
 * and then calls tinyvec_dot(), tinyvec_norm(), tinyvec_from_sequence() and
 * tinyvec_free(). import_tinyvec() imports tinyvec._core and takes the table of
 * function pointers from its "_C_API" capsule, so the consumer needs no link
 * step against tinyvec, only tinyvec installed at run time.
 *
 * Compatibility: new functions are only ever appended to TinyvecAPI and
 * TINYVEC_API_VERSION is raised when that happens; import_tinyvec() refuses a
 * tinyvec whose API is older than the one this header describes.
 */
#ifndef TINYVEC_TINYVEC_H
#define TINYVEC_TINYVEC_H

#include <Python.h>
#include <stddef.h>

#define TINYVEC_API_VERSION 1
#define TINYVEC_CAPSULE_NAME "tinyvec._core._C_API"

typedef struct {
    /* TINYVEC_API_VERSION of the tinyvec that filled the table */
    int api_version;
    /* sum of a[i] * b[i] for i < n */
    double (*dot)(const double *a, const double *b, size_t n);
    /* Euclidean norm of a[0..n) */
    double (*norm)(const double *a, size_t n);
    /* Copy a Python sequence of numbers into a new buffer (free it with
     * free_data). Returns 0, or -1 with a Python exception set. */
    int (*from_sequence)(PyObject *obj, double **data, Py_ssize_t *len);
    void (*free_data)(double *data);
} TinyvecAPI;

#ifndef TINYVEC_CORE_MODULE

/* One copy per extension module that includes this header. */
static const TinyvecAPI *tinyvec_api = NULL;

#define tinyvec_dot(a, b, n) (tinyvec_api->dot((a), (b), (n)))
#define tinyvec_norm(a, n) (tinyvec_api->norm((a), (n)))
#define tinyvec_from_sequence(obj, data, len) (tinyvec_api->from_sequence((obj), (data), (len)))
#define tinyvec_free(data) (tinyvec_api->free_data((data)))

/* Returns 0, or -1 with an ImportError set. */
static inline int
import_tinyvec(void)
{
    const TinyvecAPI *api = (const TinyvecAPI *)PyCapsule_Import(TINYVEC_CAPSULE_NAME, 0);
    if (api == NULL)
        return -1;
    if (api->api_version < TINYVEC_API_VERSION) {
        PyErr_Format(PyExc_ImportError,
                     "tinyvec C API version %d is older than version %d, which this "
                     "module was compiled against: upgrade tinyvec",
                     api->api_version, TINYVEC_API_VERSION);
        return -1;
    }
    tinyvec_api = api;
    return 0;
}

#endif /* TINYVEC_CORE_MODULE */

#endif /* TINYVEC_TINYVEC_H */
