/*
 * A structural scan of the records section of a Kafka RecordBatch v2, in C.
 *
 * broker.protocol.record_scan documents what is checked and why; its pure-Python
 * scan_records_py is the reference this must agree with (tests run both on the same
 * inputs). Nothing is allocated per record: the scan walks the varints and lengths
 * of every record in one pass over the caller's buffer and builds Python objects only
 * for the result.
 *
 * scan(data, count, require_keys) -> (min_timestamp_delta, max_timestamp_delta,
 *                                     record_errors)
 *   record_errors: a list of (record index, message) for offset deltas that are not
 *   the record's index and, with require_keys, null keys. A malformed record raises
 *   ValueError with a message naming the record.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define MIN_RECORD_BODY 6 /* attributes + five one-byte varints */

typedef struct {
    const uint8_t *data;
    Py_ssize_t pos;
    Py_ssize_t end;
} cursor;

/* A zigzag varint of at most max_bytes bytes (5 for int32, 10 for int64).
 * 0: ok; -1: runs past end; -2: too long. */
static int read_varint(cursor *c, int max_bytes, int64_t *out) {
    uint64_t value = 0;
    int shift = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (c->pos >= c->end) {
            return -1;
        }
        uint8_t byte = c->data[c->pos++];
        value |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            if (max_bytes == 5) { /* an int32, as Kafka's readVarint truncates it */
                value &= 0xFFFFFFFFu;
            }
            *out = (int64_t)(value >> 1) ^ -(int64_t)(value & 1);
            return 0;
        }
        shift += 7;
    }
    return -2;
}

static PyObject *malformed(Py_ssize_t index, const char *what) {
    PyErr_Format(PyExc_ValueError, "record %zd: %s", index, what);
    return NULL;
}

static PyObject *scan(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t count;
    int require_keys;
    if (!PyArg_ParseTuple(args, "y*np", &view, &count, &require_keys)) {
        return NULL;
    }
    PyObject *errors = PyList_New(0);
    if (errors == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    cursor batch = {(const uint8_t *)view.buf, 0, view.len};
    int64_t min_ts = 0, max_ts = 0;
    PyObject *result = NULL;
    Py_ssize_t index;
    for (index = 0; index < count; index++) {
        int64_t length, timestamp_delta, offset_delta, key_length, header_count;
        if (batch.pos >= batch.end) {
            PyErr_Format(PyExc_ValueError, "the batch holds %zd of the %zd records it declares",
                         index, count);
            goto done;
        }
        {
            int rc = read_varint(&batch, 5, &length);
            if (rc != 0) {
                malformed(index, "length is not a valid varint");
                goto done;
            }
        }
        if (length < MIN_RECORD_BODY || length > batch.end - batch.pos) {
            PyErr_Format(PyExc_ValueError, "record %zd: length %lld runs past the batch",
                         index, (long long)length);
            goto done;
        }
        cursor record = {batch.data, batch.pos + 1, batch.pos + (Py_ssize_t)length};
        batch.pos = record.end;
        if (read_varint(&record, 10, &timestamp_delta) != 0) {
            malformed(index, "timestamp delta is not a valid varint");
            goto done;
        }
        if (read_varint(&record, 5, &offset_delta) != 0) {
            malformed(index, "offset delta is not a valid varint");
            goto done;
        }
        if (read_varint(&record, 5, &key_length) != 0) {
            malformed(index, "key length is not a valid varint");
            goto done;
        }
        if (key_length < -1 || key_length > record.end - record.pos) {
            malformed(index, key_length < -1 ? "invalid key length" : "key runs past the record");
            goto done;
        }
        if (key_length > 0) {
            record.pos += (Py_ssize_t)key_length;
        }
        {
            int64_t value_length;
            if (read_varint(&record, 5, &value_length) != 0) {
                malformed(index, "value length is not a valid varint");
                goto done;
            }
            if (value_length < -1 || value_length > record.end - record.pos) {
                malformed(index, value_length < -1 ? "invalid value length"
                                                   : "value runs past the record");
                goto done;
            }
            if (value_length > 0) {
                record.pos += (Py_ssize_t)value_length;
            }
        }
        if (read_varint(&record, 5, &header_count) != 0) {
            malformed(index, "header count is not a valid varint");
            goto done;
        }
        /* every header takes at least two bytes (two one-byte lengths) */
        if (header_count < 0 || header_count > (record.end - record.pos) / 2) {
            PyErr_Format(PyExc_ValueError,
                         "record %zd: header count %lld does not fit the record", index,
                         (long long)header_count);
            goto done;
        }
        for (int64_t h = 0; h < header_count; h++) {
            int64_t size;
            if (read_varint(&record, 5, &size) != 0 || size < 0 ||
                size > record.end - record.pos) {
                malformed(index, "invalid header key");
                goto done;
            }
            record.pos += (Py_ssize_t)size;
            if (read_varint(&record, 5, &size) != 0 || size < -1 ||
                size > record.end - record.pos) {
                malformed(index, "invalid header value");
                goto done;
            }
            if (size > 0) {
                record.pos += (Py_ssize_t)size;
            }
        }
        if (record.pos != record.end) {
            PyErr_Format(PyExc_ValueError,
                         "record %zd: declares %lld bytes but its fields take %zd", index,
                         (long long)length, record.pos - (record.end - (Py_ssize_t)length));
            goto done;
        }
        if (index == 0 || timestamp_delta < min_ts) {
            min_ts = timestamp_delta;
        }
        if (index == 0 || timestamp_delta > max_ts) {
            max_ts = timestamp_delta;
        }
        if (offset_delta != index) {
            PyObject *item = Py_BuildValue(
                "(nN)", index,
                PyUnicode_FromFormat("offset delta %lld, expected %zd", (long long)offset_delta,
                                     index));
            if (item == NULL || PyList_Append(errors, item) < 0) {
                Py_XDECREF(item);
                goto done;
            }
            Py_DECREF(item);
        }
        if (require_keys && key_length == -1) {
            PyObject *item =
                Py_BuildValue("(ns)", index, "Compacted topic cannot accept message without key");
            if (item == NULL || PyList_Append(errors, item) < 0) {
                Py_XDECREF(item);
                goto done;
            }
            Py_DECREF(item);
        }
    }
    if (batch.pos != batch.end) {
        PyErr_Format(PyExc_ValueError, "%zd bytes after the last of the %zd records",
                     batch.end - batch.pos, count);
        goto done;
    }
    result = Py_BuildValue("(LLO)", (long long)min_ts, (long long)max_ts, errors);
done:
    Py_DECREF(errors);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(data, count, require_keys) -> (min_ts_delta, max_ts_delta, record_errors)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_record_scan",
    "A structural scan of RecordBatch v2 records (see broker.protocol.record_scan).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__record_scan(void) { return PyModule_Create(&module); }
