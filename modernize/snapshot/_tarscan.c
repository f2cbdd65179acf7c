/* The tar reader's fast path: every plain header in a decompressed buffer, in one call.
 *
 * Why: a server tarball holds 80,000-150,000 members and the pure-Python header
 * parse costs about 4 us each on the main thread, CPU that slows the inflating
 * helper on the other core. This does only the common case and leaves everything
 * else to the Python parser in tarstream.py (which stays the reference): a
 * header is taken here only if it has the ustar magic, an ordinary type
 * (0 1 2 3 4 5 6 7 or NUL), number fields made of octal digits alone, and its
 * data and the next header's start inside the buffer. The first header that is
 * not such (PAX, GNU long names, sparse, base-256 numbers, the end of the
 * archive, damage, the buffer's end) stops the scan; the Python parser reads it.
 * So both give the same members by construction, and tests compare them.
 *
 * Reads only within the buffer it is given; never writes anything.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define BLOCK 512

static PyObject *kind_names[8]; /* file hardlink symlink char block dir fifo */

/* Octal digits only (what GNU tar, bsdtar and Python's tarfile write). Anything
 * else, spaces and base-256 included, returns 0: the header goes to Python. */
static int octal(const unsigned char *p, int n, long long *out) {
    long long v = 0;
    for (int i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c < '0' || c > '7') return 0;
        v = (v << 3) | (c - '0');
    }
    *out = v;
    return 1;
}

static Py_ssize_t cstrlen(const unsigned char *p, Py_ssize_t n) {
    const unsigned char *nul = memchr(p, 0, (size_t)n);
    return nul ? (Py_ssize_t)(nul - p) : n;
}

static PyObject *decode(const unsigned char *p, Py_ssize_t n) {
    return PyUnicode_DecodeUTF8((const char *)p, n, "surrogateescape");
}

/* The member's name: POSIX ustar keeps a prefix in 345..500. */
static PyObject *member_name(const unsigned char *h) {
    Py_ssize_t n = cstrlen(h, 100);
    if (memcmp(h + 257, "ustar\0", 6) == 0) {
        Py_ssize_t np = cstrlen(h + 345, 155);
        if (np > 0) {
            char joined[155 + 1 + 100];
            memcpy(joined, h + 345, (size_t)np);
            joined[np] = '/';
            memcpy(joined + np + 1, h, (size_t)n);
            return decode((const unsigned char *)joined, np + 1 + n);
        }
    }
    return decode(h, n);
}

PyDoc_STRVAR(scan_doc,
             "scan(buf, pos) -> members\n\n"
             "Parse the plain headers of BUF from POS on. Each member is a tuple\n"
             "(name, kind, size, mode, uid, gid, mtime, linkname, data_at, padded):\n"
             "its data lies at BUF[data_at:data_at + size] and the next header (the\n"
             "first one not taken here, if it is the last) at data_at + padded.");

static PyObject *scan(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*n", &view, &pos)) return NULL;
    const unsigned char *buf = view.buf;
    Py_ssize_t len = view.len;
    PyObject *out = PyList_New(0);
    if (out == NULL) goto fail;
    if (pos < 0) pos = len; /* nothing to do; the caller never asks this */
    while (pos <= len - BLOCK) {
        const unsigned char *h = buf + pos;
        if (memcmp(h + 257, "ustar", 5) != 0 || h[0] == 0) break;
        int kind;
        switch (h[156]) {
            case '0': case '\0': case '7': kind = 0; break;
            case '1': kind = 1; break;
            case '2': kind = 2; break;
            case '3': kind = 3; break;
            case '4': kind = 4; break;
            case '5': kind = 5; break;
            case '6': kind = 6; break;
            default: kind = -1;
        }
        if (kind < 0) break;
        long long size, mtime, uid, gid, mode;
        if (!octal(h + 124, 11, &size) || !octal(h + 136, 11, &mtime) || !octal(h + 108, 7, &uid) ||
            !octal(h + 116, 7, &gid) || !octal(h + 100, 7, &mode))
            break;
        long long padded = kind == 0 ? (size + BLOCK - 1) / BLOCK * BLOCK : 0;
        Py_ssize_t data_at = pos + BLOCK;
        if (padded > (long long)(len - data_at)) break; /* the data runs past the buffer */
        PyObject *name = member_name(h);
        if (name == NULL) goto fail;
        PyObject *link;
        if (kind == 1 || kind == 2) {
            link = decode(h + 157, cstrlen(h + 157, 100));
            if (link == NULL) {
                Py_DECREF(name);
                goto fail;
            }
        } else {
            link = PyUnicode_New(0, 0);
        }
        PyObject *item = Py_BuildValue("(NOLLLLdNnL)", name, kind_names[kind], size, mode & 07777, uid, gid,
                                       (double)mtime, link, data_at, padded);
        if (item == NULL) goto fail;
        int err = PyList_Append(out, item);
        Py_DECREF(item);
        if (err) goto fail;
        pos = data_at + (Py_ssize_t)padded;
    }
    PyBuffer_Release(&view);
    return out;
fail:
    Py_XDECREF(out);
    PyBuffer_Release(&view);
    return NULL;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, scan_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_tarscan", "The tar reader's fast path (see tarstream.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__tarscan(void) {
    static const char *names[8] = {"file", "hardlink", "symlink", "char", "block", "dir", "fifo", NULL};
    for (int i = 0; names[i]; i++) {
        kind_names[i] = PyUnicode_InternFromString(names[i]);
        if (kind_names[i] == NULL) return NULL;
    }
    return PyModule_Create(&module);
}
