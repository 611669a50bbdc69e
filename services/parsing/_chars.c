/* The pdfium reader's loops over a text page's chars (services/parsing/pdfium.py: ``_chars`` and
 * ``_words``), in C.
 *
 * The same rules as the Python loops there, step for step and in the same double arithmetic, so
 * that both give the same chars and words to the last bit (tests/services/test_pdfium.py). In
 * Python they cost 1.3 us a char and 8 us a word, most of it ctypes' calls into PDFium: half of a
 * known vendor's path. PDFium's functions come as addresses from the library pypdfium2 loaded (no
 * header, no link): this file knows their signatures, as fpdf_text.h gives them.
 *
 * chars(textpage, functions, left, top, font_descent) -> [(text, x0, top, x1, bottom, upright)]
 * words(textpage, functions, left, top, font_descent) -> [(text, (x0, top, x1, bottom))]
 *   textpage:     the FPDF_TEXTPAGE's address
 *   functions:    the addresses of FPDFText_CountChars, _GetUnicode, _IsGenerated,
 *                 _GetLooseCharBox, _GetCharOrigin, _GetTextObject, _GetFontSize, _GetMatrix and
 *                 FPDFTextObj_GetFont, in that order
 *   font_descent: called once per font of the page, (font address) -> its AFM descent (em) or None
 * A text object's matrix, size and font are read once per object (pdfium.py's ``_object``).
 *
 * And the lines the parse makes of the words (services/parsing/layout.py: ``_rows``, ``split_rows``;
 * tests/services/test_layout.py), below.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct { float left, top, right, bottom; } RectF;  /* FS_RECTF */
typedef int (*count_fn)(void *);
typedef unsigned int (*unicode_fn)(void *, int);
typedef int (*int_fn)(void *, int);
typedef int (*box_fn)(void *, int, RectF *);
typedef int (*origin_fn)(void *, int, double *, double *);
typedef void *(*object_fn)(void *, int);
typedef double (*size_fn)(void *, int);
typedef struct { float a, b, c, d, e, f; } Matrix;  /* FS_MATRIX */
typedef int (*matrix_fn)(void *, int, Matrix *);
typedef void *(*font_fn)(void *);

#define FUNCTIONS 9

#define SPACE_SHARE 0.15
#define X_TOLERANCE 1.5
#define Y_TOLERANCE 3.0

typedef struct {
    Py_UCS4 cp[3];  /* the char's text: one code point, or a ligature's letters */
    int ncp;
    double x0, top, x1, bottom;
    int upright;
} Char;

static int spell(unsigned int code, Char *ch) {
    static const struct { unsigned int code; const char *text; } tied[] = {
        {0xFB00, "ff"}, {0xFB03, "ffi"}, {0xFB04, "ffl"}, {0xFB01, "fi"}, {0xFB02, "fl"}, {0xFB06, "st"},
        {0xFB05, "st"}, {0x02, "-"},  /* PDFium's hyphen at a line's end */
    };
    for (size_t k = 0; k < sizeof tied / sizeof tied[0]; k++) {
        if (tied[k].code == code) {
            ch->ncp = 0;
            for (const char *c = tied[k].text; *c; c++) ch->cp[ch->ncp++] = (Py_UCS4)*c;
            return 0;
        }
    }
    if (code > 0x10FFFF) {  /* chr() refuses it too */
        PyErr_Format(PyExc_ValueError, "chr() arg not in range(0x110000): %u", code);
        return -1;
    }
    ch->cp[0] = (Py_UCS4)code;
    ch->ncp = 1;
    return 0;
}

static int is_space(const Char *ch) { return ch->ncp == 1 && Py_UNICODE_ISSPACE(ch->cp[0]); }

static int apart(const Char *prev, const Char *ch, double size) {
    if (prev->upright != ch->upright || !ch->upright) return 1;  /* turned text: PDFium's inference */
    double gap = ch->x0 - prev->x1, g;
    if ((g = prev->x0 - ch->x1) > gap) gap = g;
    if ((g = ch->top - prev->bottom) > gap) gap = g;
    if ((g = prev->top - ch->bottom) > gap) gap = g;
    return gap >= SPACE_SHARE * size;
}

typedef struct {
    Char *at;
    Py_ssize_t n, cap;
} Chars;

static Char *push(Chars *out) {
    if (out->n == out->cap) {
        Py_ssize_t want = out->cap ? out->cap * 2 : 256;
        Char *more = PyMem_Realloc(out->at, (size_t)want * sizeof(Char));
        if (!more) { PyErr_NoMemory(); return NULL; }
        out->at = more; out->cap = want;
    }
    return &out->at[out->n++];
}

typedef struct { int upright; double size, afm; int has_afm; } Drawn;  /* how a text object draws */

/* pdfium.py's ``_object``: (upright, font size as drawn, AFM descent) of char ``i``'s text object
   ``obj``, the font's descent asked of ``font_descent`` once per font (``fonts``); -1 on error. */
static int drawn(void *page, int i, void *obj, matrix_fn get_matrix, size_fn font_size, font_fn get_font,
                 PyObject *font_descent, PyObject *fonts, Drawn *out) {
    Matrix m;
    double scale = 1.0;
    out->upright = 1;
    if (get_matrix(page, i, &m)) {  /* pdfminer's test: no rotation or shear */
        out->upright = (double)m.a * (double)m.d > 0 && (double)m.b * (double)m.c <= 0;
        double c = (double)m.c, d = (double)m.d;
        scale = pow(pow(c, 2.0) + pow(d, 2.0), 0.5);  /* as Python's ** computes it: the same float */
    }
    out->size = font_size(page, i) * scale;
    out->has_afm = 0;
    out->afm = 0.0;
    if (!obj || !out->upright) return 0;
    void *font = get_font(obj);
    PyObject *key = PyLong_FromVoidPtr(font);
    if (!key) return -1;
    PyObject *descent = PyDict_GetItemWithError(fonts, key);  /* borrowed */
    if (descent) {
        Py_INCREF(descent);
    } else if (PyErr_Occurred()
               || !(descent = PyObject_CallFunctionObjArgs(font_descent, key, NULL))
               || PyDict_SetItem(fonts, key, descent) < 0) {
        Py_XDECREF(descent); Py_DECREF(key);
        return -1;
    }
    Py_DECREF(key);
    if (descent != Py_None) {
        out->afm = PyFloat_AsDouble(descent);
        out->has_afm = 1;
        if (out->afm == -1.0 && PyErr_Occurred()) { Py_DECREF(descent); return -1; }
    }
    Py_DECREF(descent);
    return 0;
}

/* The page's chars into ``out``, as pdfium.py's ``_chars`` reads them; -1 with an exception set. */
static int collect(PyObject *args, Chars *out) {
    unsigned long long page_address;
    PyObject *functions, *font_descent;
    double left, top_edge;
    if (!PyArg_ParseTuple(args, "KO!ddO", &page_address, &PyTuple_Type, &functions, &left, &top_edge,
                          &font_descent))
        return -1;
    if (PyTuple_GET_SIZE(functions) != FUNCTIONS) {
        PyErr_SetString(PyExc_ValueError, "nine PDFium function addresses are needed");
        return -1;
    }
    void *fn[FUNCTIONS];
    for (int k = 0; k < FUNCTIONS; k++) {
        fn[k] = PyLong_AsVoidPtr(PyTuple_GET_ITEM(functions, k));
        if (!fn[k]) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "a null PDFium function");
            return -1;
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
    matrix_fn get_matrix = (matrix_fn)fn[7];
    font_fn get_font = (font_fn)fn[8];

    int count = count_chars(page);
    Py_ssize_t last_at = -1;
    void *last_obj = NULL;
    int gap_pending = 0, failed = -1;
    double gap_size = 0.0;
    /* A text object draws all its chars in one font, size and matrix: read once, at its first char.
       objects: object address -> its index in drawn_of; fonts: font address -> AFM descent or None */
    PyObject *objects = PyDict_New(), *fonts = PyDict_New();
    Drawn *drawn_of = NULL, current = {1, 0.0, 0.0, 0};
    Py_ssize_t nobjects = 0, capacity = 0;
    void *current_obj = NULL;
    if (!objects || !fonts) goto done;

    for (int i = 0; i < count; i++) {
        unsigned int code = get_unicode(page, i);
        if ((code == 0x20 || code == 0x0D || code == 0x0A || code == 0x02) && is_generated(page, i) == 1) {
            /* A space or line break PDFium inferred: a word break if the next char stands apart by
               a space's width (kerning gaps are far smaller). */
            if (code == 0x20 && out->n) {
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
        if (!obj) {  /* no object to remember it by: read for this char */
            if (drawn(page, i, NULL, get_matrix, font_size, get_font, font_descent, fonts, &current)) goto done;
            current_obj = NULL;
        } else if (obj != current_obj) {
            PyObject *key = PyLong_FromVoidPtr(obj);
            if (!key) goto done;
            PyObject *at = PyDict_GetItemWithError(objects, key);  /* borrowed */
            if (at) {
                current = drawn_of[PyLong_AsSsize_t(at)];
            } else if (PyErr_Occurred()
                       || drawn(page, i, obj, get_matrix, font_size, get_font, font_descent, fonts, &current)) {
                Py_DECREF(key); goto done;
            } else {
                if (nobjects == capacity) {
                    Py_ssize_t want = capacity ? 2 * capacity : 64;
                    Drawn *more = PyMem_Realloc(drawn_of, (size_t)want * sizeof(Drawn));
                    if (!more) { PyErr_NoMemory(); Py_DECREF(key); goto done; }
                    drawn_of = more; capacity = want;
                }
                PyObject *index = PyLong_FromSsize_t(nobjects);
                if (!index || PyDict_SetItem(objects, key, index) < 0) { Py_XDECREF(index); Py_DECREF(key); goto done; }
                Py_DECREF(index);
                drawn_of[nobjects++] = current;
            }
            Py_DECREF(key);
            current_obj = obj;
        }
        int upright = current.upright, has_afm = current.has_afm;
        double size = current.size, afm = current.afm;

        Char ch;
        if (spell(code, &ch)) goto done;
        double x0 = (double)rect.left - left, x1 = (double)rect.right - left, origin_x = ox - left;
        if (upright) {
            /* pdfminer's box: from the baseline plus the descent, one font size high */
            double box_bottom = has_afm ? oy + afm * size : ((double)rect.bottom < oy ? (double)rect.bottom : oy);
            double bottom = top_edge - box_bottom;
            ch.x0 = x0; ch.top = bottom - size; ch.x1 = x1; ch.bottom = bottom; ch.upright = 1;
            if (last_obj == obj && last_at >= 0) {
                Char *prev = &out->at[last_at];  /* pdfminer ends a char where the next one starts */
                double d = prev->bottom - bottom;
                if (prev->upright && (d < 0 ? -d : d) < 0.01 && prev->x0 < origin_x && origin_x <= prev->x1 + 1.0)
                    prev->x1 = origin_x;
            }
        } else {
            ch.x0 = x0; ch.top = top_edge - (double)rect.top; ch.x1 = x1;
            ch.bottom = top_edge - (double)rect.bottom; ch.upright = 0;
        }
        if (gap_pending) {
            if (out->n && apart(&out->at[out->n - 1], &ch, gap_size)) {
                Char *space = push(out);
                if (!space) goto done;
                Char *prev = space - 1;
                *space = (Char){{' '}, 1, prev->x1, prev->top, prev->x1, prev->bottom, prev->upright};
            }
            gap_pending = 0;
        }
        Char *slot = push(out);
        if (!slot) goto done;
        *slot = ch;
        last_obj = obj; last_at = out->n - 1;
    }
    failed = 0;
done:
    Py_XDECREF(objects);
    Py_XDECREF(fonts);
    PyMem_Free(drawn_of);
    return failed;
}

static PyObject *text_of(const Char *const *run, Py_ssize_t n) {
    Py_UCS4 buffer[256], *cps = buffer;
    Py_ssize_t total = 0;
    for (Py_ssize_t k = 0; k < n; k++) total += run[k]->ncp;
    if (!total) return PyUnicode_New(0, 0);
    if (total > 256 && !(cps = PyMem_Malloc((size_t)total * sizeof(Py_UCS4)))) return PyErr_NoMemory();
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < n; k++)
        for (int c = 0; c < run[k]->ncp; c++) cps[at++] = run[k]->cp[c];
    PyObject *text = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, cps, total);
    if (cps != buffer) PyMem_Free(cps);
    return text;
}

static PyObject *chars(PyObject *self, PyObject *args) {
    Chars out = {NULL, 0, 0};
    PyObject *result = NULL;
    if (collect(args, &out)) goto done;
    if (!(result = PyList_New(out.n))) goto done;
    for (Py_ssize_t k = 0; k < out.n; k++) {
        const Char *c = &out.at[k];
        PyObject *item = Py_BuildValue("(NddddN)", text_of(&c, 1), c->x0, c->top, c->x1, c->bottom,
                                       PyBool_FromLong(c->upright));
        if (!item) { Py_CLEAR(result); goto done; }
        PyList_SET_ITEM(result, k, item);
    }
done:
    PyMem_Free(out.at);
    return result;
}

/* ---- words: pdfium.py's ``_words`` (pdfplumber's extract_words) over the collected chars */

typedef struct {
    const Char *ch;
    Py_ssize_t index;  /* in stream order: ties keep it, as Python's stable sort does */
    Py_ssize_t line;
    int upright;
} Placed;

/* A total order on doubles, NaN after every number (a hostile page's coordinates may be no number:
   qsort needs a consistent comparison whatever they are). */
static int order(double u, double v) {
    int a = isnan(u), b = isnan(v);
    if (a || b) return a - b;
    return (u > v) - (u < v);
}

static int by_key(const void *a, const void *b) {  /* the clustering coordinate: top, or x0 turned */
    const Placed *p = a, *q = b;
    int c = p->upright ? order(p->ch->top, q->ch->top) : order(p->ch->x0, q->ch->x0);
    return c ? c : (p->index > q->index) - (p->index < q->index);
}

static int by_line(const void *a, const void *b) {  /* line, then x0 (upright) or (top, bottom) */
    const Placed *p = a, *q = b;
    int c = (p->line > q->line) - (p->line < q->line);
    if (!c) c = p->upright ? order(p->ch->x0, q->ch->x0) : order(p->ch->top, q->ch->top);
    if (!c && !p->upright) c = order(p->ch->bottom, q->ch->bottom);
    return c ? c : (p->index > q->index) - (p->index < q->index);
}

static int begins_word(const Char *prev, const Char *ch, int upright) {
    if (upright) {
        double d = ch->top - prev->top;
        return ch->x0 < prev->x0 || ch->x0 > prev->x1 + X_TOLERANCE || (d < 0 ? -d : d) > Y_TOLERANCE;
    }
    double d = ch->x0 - prev->x0;
    return ch->top < prev->top || ch->top > prev->bottom + Y_TOLERANCE || (d < 0 ? -d : d) > X_TOLERANCE;
}

static PyObject *rounded(double v, PyObject *two) {  /* Python's round(v, 2), to the same float */
    PyObject *f = PyFloat_FromDouble(v);
    if (!f) return NULL;
    PyObject *r = PyObject_CallMethod(f, "__round__", "O", two);
    Py_DECREF(f);
    return r;
}

static int emit(PyObject *words, const Char *const *run, Py_ssize_t n, PyObject *two) {
    double x0 = run[0]->x0, top = run[0]->top, x1 = run[0]->x1, bottom = run[0]->bottom;
    for (Py_ssize_t k = 1; k < n; k++) {
        if (run[k]->x0 < x0) x0 = run[k]->x0;
        if (run[k]->top < top) top = run[k]->top;
        if (run[k]->x1 > x1) x1 = run[k]->x1;
        if (run[k]->bottom > bottom) bottom = run[k]->bottom;
    }
    PyObject *word = Py_BuildValue("(N(NNNN))", text_of(run, n), rounded(x0, two), rounded(top, two),
                                   rounded(x1, two), rounded(bottom, two));
    if (!word) return -1;
    int failed = PyList_Append(words, word);
    Py_DECREF(word);
    return failed;
}

static PyObject *words(PyObject *self, PyObject *args) {
    Chars out = {NULL, 0, 0};
    Placed *placed = NULL;
    const Char **current = NULL;
    PyObject *result = NULL, *two = PyLong_FromLong(2);
    if (!two || collect(args, &out)) goto done;
    if (!(result = PyList_New(0))) goto done;
    placed = PyMem_Malloc((size_t)(out.n ? out.n : 1) * sizeof(Placed));
    current = PyMem_Malloc((size_t)(out.n ? out.n : 1) * sizeof(Char *));
    if (!placed || !current) { PyErr_NoMemory(); Py_CLEAR(result); goto done; }
    for (Py_ssize_t start = 0; start < out.n;) {  /* each run of upright chars, or of turned ones */
        int upright = out.at[start].upright;
        Py_ssize_t end = start;
        while (end < out.n && out.at[end].upright == upright) end++;
        Py_ssize_t n = end - start;
        for (Py_ssize_t k = 0; k < n; k++) placed[k] = (Placed){&out.at[start + k], k, 0, upright};
        /* lines: the chars whose key chains within the tolerance, by their key's sorted values */
        qsort(placed, (size_t)n, sizeof(Placed), by_key);
        double tolerance = upright ? Y_TOLERANCE : X_TOLERANCE;
        Py_ssize_t line = 0;
        for (Py_ssize_t k = 0; k < n; k++) {
            double value = upright ? placed[k].ch->top : placed[k].ch->x0;
            if (k && value > (upright ? placed[k - 1].ch->top : placed[k - 1].ch->x0) + tolerance) line++;
            placed[k].line = line;
        }
        qsort(placed, (size_t)n, sizeof(Placed), by_line);
        Py_ssize_t held = 0;
        for (Py_ssize_t k = 0; k < n; k++) {
            const Char *ch = placed[k].ch;
            if (k && placed[k].line != placed[k - 1].line && held) {  /* a line ends its word */
                if (emit(result, current, held, two)) { Py_CLEAR(result); goto done; }
                held = 0;
            }
            if (is_space(ch)) {
                if (held && emit(result, current, held, two)) { Py_CLEAR(result); goto done; }
                held = 0;
            } else if (held && begins_word(current[held - 1], ch, upright)) {
                if (emit(result, current, held, two)) { Py_CLEAR(result); goto done; }
                current[0] = ch;
                held = 1;
            } else {
                current[held++] = ch;
            }
        }
        if (held && emit(result, current, held, two)) { Py_CLEAR(result); goto done; }
        start = end;
    }
done:
    Py_XDECREF(two);
    PyMem_Free(placed);
    PyMem_Free(current);
    PyMem_Free(out.at);
    return result;
}

/* ---- lines: layout.py's ``_rows`` and ``split_rows`` over a page's word boxes
 *
 * rows(boxes) -> [[index, ...], ...] or None
 * lines(boxes, rows, gap_factor) -> [([index, ...], (x0, top, x1, bottom)), ...] or None
 *   boxes: each word's (x0, top, x1, bottom). None where a coordinate is not a finite number:
 *   Python's sort orders NaNs its own way, so the Python loops group such a page.
 * Python 3.11's sum() of floats is plain addition from 0.0, as here (3.12 compensates it). */

typedef struct { double x0, top, x1, bottom; } Box;

static Box *boxes_of(PyObject *seq, Py_ssize_t *n, int *finite) {
    PyObject *fast = PySequence_Tuple(seq);  /* a copy: a number's __float__ may not shorten it under us */
    if (!fast) return NULL;
    *n = PyTuple_GET_SIZE(fast);
    *finite = 1;
    Box *out = PyMem_Malloc((size_t)(*n ? *n : 1) * sizeof(Box));
    if (!out) { Py_DECREF(fast); PyErr_NoMemory(); return NULL; }
    for (Py_ssize_t i = 0; i < *n; i++) {
        Box *b = &out[i];
        PyObject *box = PyTuple_GET_ITEM(fast, i);
        if (!PyTuple_Check(box) || PyTuple_GET_SIZE(box) != 4) {
            PyErr_SetString(PyExc_TypeError, "a box is a tuple of four numbers");
            PyMem_Free(out); Py_DECREF(fast); return NULL;
        }
        double *at[4] = {&b->x0, &b->top, &b->x1, &b->bottom};
        for (int k = 0; k < 4; k++) {
            *at[k] = PyFloat_AsDouble(PyTuple_GET_ITEM(box, k));
            if (*at[k] == -1.0 && PyErr_Occurred()) { PyMem_Free(out); Py_DECREF(fast); return NULL; }
        }
        if (!isfinite(b->x0) || !isfinite(b->top) || !isfinite(b->x1) || !isfinite(b->bottom)) *finite = 0;
    }
    Py_DECREF(fast);
    return out;
}

typedef struct { double a, b; Py_ssize_t i; } Keyed;  /* a sort key of two doubles, ties by index */

static int by_keys(const void *p, const void *q) {
    const Keyed *u = p, *v = q;
    if (u->a != v->a) return u->a < v->a ? -1 : 1;
    if (u->b != v->b) return u->b < v->b ? -1 : 1;
    return (u->i > v->i) - (u->i < v->i);
}

typedef struct { double centre; Py_ssize_t row; } Centre;

static PyObject *rows(PyObject *self, PyObject *arg) {
    Py_ssize_t n, nrows = 0;
    int finite;
    Box *boxes = boxes_of(arg, &n, &finite);
    if (!boxes) return NULL;
    PyObject *result = NULL;
    Keyed *order = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Keyed));
    Centre *centres = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Centre));  /* sorted by centre */
    Py_ssize_t *row_of = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_ssize_t));
    if (!order || !centres || !row_of) { PyErr_NoMemory(); goto done; }
    if (!finite) { result = Py_NewRef(Py_None); goto done; }
    for (Py_ssize_t i = 0; i < n; i++) order[i] = (Keyed){boxes[i].top, boxes[i].x0, i};
    qsort(order, (size_t)n, sizeof(Keyed), by_keys);
    for (Py_ssize_t k = 0; k < n; k++) {
        const Box *b = &boxes[order[k].i];
        double mid = (b->top + b->bottom) / 2, half = (b->bottom - b->top) / 2;
        if (1.0 > half) half = 1.0;
        double low = mid - half - 1e-6, high = mid + half + 1e-6;
        Py_ssize_t lo = 0, hi = nrows;  /* the first centre >= low */
        while (lo < hi) { Py_ssize_t m = (lo + hi) / 2; if (centres[m].centre < low) lo = m + 1; else hi = m; }
        Py_ssize_t best = -1;
        for (Py_ssize_t j = lo; j < nrows && centres[j].centre <= high; j++)
            if (fabs(centres[j].centre - mid) <= half && (best < 0 || centres[j].row < best)) best = centres[j].row;
        if (best < 0) {  /* a row of its own, its centre after every one not above it */
            Py_ssize_t at = 0, top = nrows;
            while (at < top) { Py_ssize_t m = (at + top) / 2; if (mid < centres[m].centre) top = m; else at = m + 1; }
            memmove(&centres[at + 1], &centres[at], (size_t)(nrows - at) * sizeof(Centre));
            centres[at] = (Centre){mid, nrows};
            best = nrows++;
        }
        row_of[order[k].i] = best;
    }
    if (!(result = PyList_New(nrows))) goto done;
    for (Py_ssize_t r = 0; r < nrows; r++) {
        PyObject *row = PyList_New(0);
        if (!row) { Py_CLEAR(result); goto done; }
        PyList_SET_ITEM(result, r, row);
    }
    for (Py_ssize_t k = 0; k < n; k++) {  /* each row's words in the order they joined it */
        PyObject *index = PyLong_FromSsize_t(order[k].i);
        if (!index || PyList_Append(PyList_GET_ITEM(result, row_of[order[k].i]), index) < 0) {
            Py_XDECREF(index); Py_CLEAR(result); goto done;
        }
        Py_DECREF(index);
    }
done:
    PyMem_Free(boxes); PyMem_Free(order); PyMem_Free(centres); PyMem_Free(row_of);
    return result;
}

typedef struct { Py_ssize_t first, count; Box box; double rounded_top; Py_ssize_t made; } Segment;

static int by_reading(const void *p, const void *q) {  /* (round(top), x0), then as made */
    const Segment *u = p, *v = q;
    if (u->rounded_top != v->rounded_top) return u->rounded_top < v->rounded_top ? -1 : 1;
    if (u->box.x0 != v->box.x0) return u->box.x0 < v->box.x0 ? -1 : 1;
    return (u->made > v->made) - (u->made < v->made);
}

static PyObject *lines(PyObject *self, PyObject *args) {
    PyObject *box_list, *row_list, *result = NULL;
    double gap_factor;
    if (!PyArg_ParseTuple(args, "OO!d", &box_list, &PyList_Type, &row_list, &gap_factor)) return NULL;
    Py_ssize_t n, nrows = PyList_GET_SIZE(row_list), total = 0, nsegments = 0;
    int finite;
    Box *boxes = boxes_of(box_list, &n, &finite);
    if (!boxes) return NULL;
    for (Py_ssize_t r = 0; r < nrows; r++) {
        PyObject *row = PyList_GET_ITEM(row_list, r);
        if (!PyList_Check(row) || !PyList_GET_SIZE(row)) {
            PyErr_SetString(PyExc_ValueError, "each row is a list of word indexes, none empty");
            PyMem_Free(boxes); return NULL;
        }
        total += PyList_GET_SIZE(row);
    }
    Keyed *members = PyMem_Malloc((size_t)(total ? total : 1) * sizeof(Keyed));
    Segment *segments = PyMem_Malloc((size_t)(total ? total : 1) * sizeof(Segment));
    if (!members || !segments) { PyErr_NoMemory(); goto done; }
    if (!finite) { result = Py_NewRef(Py_None); goto done; }
    Py_ssize_t at = 0;
    for (Py_ssize_t r = 0; r < nrows; r++) {
        PyObject *row = PyList_GET_ITEM(row_list, r);
        Py_ssize_t size = PyList_GET_SIZE(row), first = at;
        double height = 0.0;
        for (Py_ssize_t k = 0; k < size; k++) {
            Py_ssize_t i = PyLong_AsSsize_t(PyList_GET_ITEM(row, k));
            if (i < 0 || i >= n) {
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "a row names no word of the page");
                goto done;
            }
            members[at++] = (Keyed){boxes[i].x0, (double)k, i};  /* ties keep the row's order, as a stable sort does */
            height += boxes[i].bottom - boxes[i].top;
        }
        height /= (double)size;
        qsort(&members[first], (size_t)size, sizeof(Keyed), by_keys);
        Py_ssize_t start = first;
        for (Py_ssize_t k = first; k <= at; k++) {
            if (k < at && (k == first || !(boxes[members[k].i].x0 - boxes[members[k - 1].i].x1 > gap_factor * height)))
                continue;
            Segment *s = &segments[nsegments];  /* members[start:k] is one line */
            s->first = start; s->count = k - start; s->made = nsegments++;
            s->box = boxes[members[start].i];
            for (Py_ssize_t m = start + 1; m < k; m++) {
                const Box *b = &boxes[members[m].i];
                if (b->x0 < s->box.x0) s->box.x0 = b->x0;
                if (b->top < s->box.top) s->box.top = b->top;
                if (b->x1 > s->box.x1) s->box.x1 = b->x1;
                if (b->bottom > s->box.bottom) s->box.bottom = b->bottom;
            }
            s->rounded_top = nearbyint(s->box.top);  /* round(): half to even */
            start = k;
        }
    }
    qsort(segments, (size_t)nsegments, sizeof(Segment), by_reading);
    if (!(result = PyList_New(nsegments))) goto done;
    for (Py_ssize_t g = 0; g < nsegments; g++) {
        const Segment *s = &segments[g];
        PyObject *idx = PyList_New(s->count);
        if (!idx) { Py_CLEAR(result); goto done; }
        for (Py_ssize_t m = 0; m < s->count; m++) {
            PyObject *index = PyLong_FromSsize_t(members[s->first + m].i);
            if (!index) { Py_DECREF(idx); Py_CLEAR(result); goto done; }
            PyList_SET_ITEM(idx, m, index);
        }
        PyObject *line = Py_BuildValue("(N(dddd))", idx, s->box.x0, s->box.top, s->box.x1, s->box.bottom);
        if (!line) { Py_CLEAR(result); goto done; }
        PyList_SET_ITEM(result, g, line);
    }
done:
    PyMem_Free(boxes); PyMem_Free(members); PyMem_Free(segments);
    return result;
}

static PyMethodDef methods[] = {
    {"chars", chars, METH_VARARGS, "A text page's chars with pdfminer's boxes (see services/parsing/pdfium.py)."},
    {"words", words, METH_VARARGS, "A text page's words, (text, (x0, top, x1, bottom)), as _words reads the chars."},
    {"rows", rows, METH_O, "The words' rows by vertical centre, as services/parsing/layout.py's _rows groups them."},
    {"lines", lines, METH_VARARGS, "Rows to lines, as layout.py's split_rows splits and orders them (index lists and boxes)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_chars", NULL, -1, methods};

PyMODINIT_FUNC PyInit__chars(void) { return PyModule_Create(&module); }
