/* The pdfium reader's loop over a text page's chars (services/parsing/pdfium.py, ``_chars``), in C.
 *
 * The same rule as the Python loop beside it, step for step and in the same double arithmetic (so
 * that both give the same boxes to the last bit: tests/services/parsing/test_pdfium_chars.py): in
 * Python the loop cost 1.3 us a char, three quarters of it in ctypes' calls into PDFium, a third of
 * a known vendor's whole path. PDFium's functions come as addresses from the library pypdfium2
 * loaded (no header, no link): this file knows their signatures, as fpdf_text.h gives them.
 *
 * chars(textpage, functions, left, top, object_info) -> list of (text, x0, top, x1, bottom, upright)
 *   textpage:    the FPDF_TEXTPAGE's address
 *   functions:   the addresses of FPDFText_CountChars, _GetUnicode, _IsGenerated,
 *                _GetLooseCharBox, _GetCharOrigin, _GetTextObject, _GetFontSize, in that order
 *   object_info: called once per text object, (char index, object address or None) ->
 *                (upright, font size as drawn, AFM descent or None)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

typedef struct { float left, top, right, bottom; } RectF;  /* FS_RECTF */
typedef int (*count_fn)(void *);
typedef unsigned int (*unicode_fn)(void *, int);
typedef int (*int_fn)(void *, int);
typedef int (*box_fn)(void *, int, RectF *);
typedef int (*origin_fn)(void *, int, double *, double *);
typedef void *(*object_fn)(void *, int);
typedef double (*size_fn)(void *, int);

#define SPACE_SHARE 0.15

typedef struct {
    PyObject *text;
    double x0, top, x1, bottom;
    int upright;
} Char;

static PyObject *ligature(unsigned int code) {
    switch (code) {
    case 0xFB00: return PyUnicode_FromString("ff");
    case 0xFB03: return PyUnicode_FromString("ffi");
    case 0xFB04: return PyUnicode_FromString("ffl");
    case 0xFB01: return PyUnicode_FromString("fi");
    case 0xFB02: return PyUnicode_FromString("fl");
    case 0xFB06: case 0xFB05: return PyUnicode_FromString("st");
    case 0x02: return PyUnicode_FromString("-");  /* PDFium's hyphen at a line's end */
    default: return PyUnicode_FromOrdinal((int)code);
    }
}

static int apart(const Char *prev, const Char *ch, double size) {
    if (prev->upright != ch->upright || !ch->upright) return 1;  /* turned text: PDFium's inference */
    double gap = ch->x0 - prev->x1, g;
    if ((g = prev->x0 - ch->x1) > gap) gap = g;
    if ((g = ch->top - prev->bottom) > gap) gap = g;
    if ((g = prev->top - ch->bottom) > gap) gap = g;
    return gap >= SPACE_SHARE * size;
}

static int grow(Char **out, Py_ssize_t *cap, Py_ssize_t n) {
    if (n < *cap) return 0;
    Py_ssize_t want = *cap ? *cap * 2 : 256;
    Char *more = PyMem_Realloc(*out, (size_t)want * sizeof(Char));
    if (!more) { PyErr_NoMemory(); return -1; }
    *out = more; *cap = want;
    return 0;
}

static PyObject *chars(PyObject *self, PyObject *args) {
    unsigned long long page_address;
    PyObject *functions, *object_info;
    double left, top_edge;
    if (!PyArg_ParseTuple(args, "KO!ddO", &page_address, &PyTuple_Type, &functions, &left, &top_edge,
                          &object_info))
        return NULL;
    if (PyTuple_GET_SIZE(functions) != 7) {
        PyErr_SetString(PyExc_ValueError, "seven PDFium function addresses are needed");
        return NULL;
    }
    void *fn[7];
    for (int k = 0; k < 7; k++) {
        fn[k] = PyLong_AsVoidPtr(PyTuple_GET_ITEM(functions, k));
        if (!fn[k]) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "a null PDFium function");
            return NULL;
        }
    }
    void *page = (void *)(uintptr_t)page_address;
    count_fn count_chars = (count_fn)fn[0];
    unicode_fn get_unicode = (unicode_fn)fn[1];
    int_fn is_generated = (int_fn)fn[2];
    box_fn loose_box = (box_fn)fn[3];
    origin_fn origin = (origin_fn)fn[4];
    object_fn text_object = (object_fn)fn[5];
    size_fn font_size = (size_fn)fn[6];

    int count = count_chars(page);
    Char *out = NULL;
    Py_ssize_t cap = 0, n = 0, last_at = -1;
    void *last_obj = NULL;
    int have_last_obj = 0, gap_pending = 0;
    double gap_size = 0.0;
    PyObject *objects = PyDict_New();  /* object address -> (upright, size, afm) */
    PyObject *result = NULL;
    if (!objects) return NULL;

    for (int i = 0; i < count; i++) {
        unsigned int code = get_unicode(page, i);
        if ((code == 0x20 || code == 0x0D || code == 0x0A || code == 0x02) && is_generated(page, i) == 1) {
            /* A space or line break PDFium inferred: a word break if the next char stands apart by
               a space's width. The Python loop keeps None (no break) where no char came before. */
            if (code == 0x20 && n) {
                gap_pending = 1;
                gap_size = font_size(page, i - 1);
            }
            continue;
        }
        RectF rect;
        double ox, oy;
        if (code == 0 || code == 0xFFFE || code == 0xFFFF || !loose_box(page, i, &rect)
            || !origin(page, i, &ox, &oy))
            continue;
        void *obj = text_object(page, i);
        PyObject *known = NULL, *key = NULL;
        if (obj) {
            key = PyLong_FromVoidPtr(obj);
            if (!key) goto done;
            known = PyDict_GetItemWithError(objects, key);  /* borrowed */
            if (!known && PyErr_Occurred()) { Py_DECREF(key); goto done; }
            Py_XINCREF(known);
        }
        if (!known) {
            known = PyObject_CallFunction(object_info, "iO", i, obj ? key : Py_None);
            if (!known || (obj && PyDict_SetItem(objects, key, known) < 0)) { Py_XDECREF(key); Py_XDECREF(known); goto done; }
        }
        Py_XDECREF(key);
        int upright;
        double size, afm = 0.0;
        PyObject *afm_obj;
        if (!PyArg_ParseTuple(known, "pdO", &upright, &size, &afm_obj)) { Py_DECREF(known); goto done; }
        int has_afm = afm_obj != Py_None;
        if (has_afm) afm = PyFloat_AsDouble(afm_obj);
        Py_DECREF(known);
        if (has_afm && afm == -1.0 && PyErr_Occurred()) goto done;

        Char ch;
        double x0 = (double)rect.left - left, x1 = (double)rect.right - left, origin_x = ox - left;
        if (upright) {
            double box_bottom;
            if (has_afm) box_bottom = oy + afm * size;
            else box_bottom = (double)rect.bottom < oy ? (double)rect.bottom : oy;
            double bottom = top_edge - box_bottom;
            ch.x0 = x0; ch.top = bottom - size; ch.x1 = x1; ch.bottom = bottom; ch.upright = 1;
            if (have_last_obj && last_obj == obj && last_at >= 0) {
                Char *prev = &out[last_at];  /* pdfminer ends a char where the next one starts */
                double d = prev->bottom - bottom;
                if (prev->upright && (d < 0 ? -d : d) < 0.01 && prev->x0 < origin_x && origin_x <= prev->x1 + 1.0)
                    prev->x1 = origin_x;
            }
        } else {
            ch.x0 = x0; ch.top = top_edge - (double)rect.top; ch.x1 = x1;
            ch.bottom = top_edge - (double)rect.bottom; ch.upright = 0;
        }
        if (gap_pending) {
            if (n && apart(&out[n - 1], &ch, gap_size)) {
                if (grow(&out, &cap, n)) goto done;
                Char *prev = &out[n - 1];
                PyObject *space = PyUnicode_FromOrdinal(' ');
                if (!space) goto done;
                out[n] = (Char){space, prev->x1, prev->top, prev->x1, prev->bottom, prev->upright};
                n++;
            }
            gap_pending = 0;
        }
        ch.text = ligature(code);
        if (!ch.text) goto done;
        if (grow(&out, &cap, n)) { Py_DECREF(ch.text); goto done; }
        last_obj = obj; have_last_obj = 1; last_at = n;
        out[n++] = ch;
    }

    result = PyList_New(n);
    if (!result) goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        Char *c = &out[k];
        PyObject *item = Py_BuildValue("(Oddddi)", c->text, c->x0, c->top, c->x1, c->bottom, c->upright);
        if (!item) { Py_CLEAR(result); goto done; }
        /* upright as a bool, as the Python loop gives it */
        PyObject *flag = PyBool_FromLong(c->upright);
        PyTuple_SetItem(item, 5, flag);  /* steals flag, drops the int */
        PyList_SET_ITEM(result, k, item);
    }
done:
    for (Py_ssize_t k = 0; k < n; k++) Py_DECREF(out[k].text);
    PyMem_Free(out);
    Py_DECREF(objects);
    return result;
}

static PyMethodDef methods[] = {
    {"chars", chars, METH_VARARGS, "A text page's chars with pdfminer's boxes (see services/parsing/pdfium.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_chars", NULL, -1, methods};

PyMODINIT_FUNC PyInit__chars(void) { return PyModule_Create(&module); }
