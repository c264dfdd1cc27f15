/*
 * minijson.h: just enough JSON reading for the C examples and tests to
 * pick fields out of what libactioncenter returns, without a dependency.
 * It reads well-formed JSON only (which the library always returns) and
 * allocates nothing. A real integration would use a JSON library such as
 * cJSON or jansson.
 *
 *   const char *status = mj_get(action_json, "status");   // the value's text
 *   if (mj_eq(status, "approved")) ...
 *   char id[64];
 *   mj_string(mj_get(action_json, "id"), id, sizeof id);
 *   for (size_t i = 0; i < mj_len(array_json); i++) mj_at(array_json, i) ...
 *   mj_last(mj_get(action_json, "attempts"))              // the last element
 */
#ifndef MINIJSON_H
#define MINIJSON_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static inline const char *mj_ws(const char *p) {
    while (p && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* The end of the JSON string at p (just past its closing quote), or NULL. */
static inline const char *mj_skip_string(const char *p) {
    if (!p || *p != '"') return NULL;
    for (p++; *p; p++) {
        if (*p == '\\') {
            if (!p[1]) return NULL;
            p++;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* The end of the JSON value at p, or NULL. */
static inline const char *mj_skip(const char *p) {
    p = mj_ws(p);
    if (!p) return NULL;
    if (*p == '"') return mj_skip_string(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int object = *p == '{';
        p = mj_ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (object) {
                p = mj_ws(mj_skip_string(mj_ws(p)));
                if (!p || *p != ':') return NULL;
                p++;
            }
            p = mj_ws(mj_skip(p));
            if (!p) return NULL;
            if (*p == close) return p + 1;
            if (*p != ',') return NULL;
            p++;
        }
    }
    {
        const char *start = p;
        while (*p && strchr("+-.0123456789eEtrufalsn", *p)) p++;
        return p == start ? NULL : p;
    }
}

/* The value of member `key` of the object at obj, or NULL. */
static inline const char *mj_get(const char *obj, const char *key) {
    const char *p = mj_ws(obj);
    size_t key_len = strlen(key);
    if (!p || *p != '{') return NULL;
    p = mj_ws(p + 1);
    if (*p == '}') return NULL;
    for (;;) {
        const char *name = p;
        const char *end = mj_skip_string(name);
        const char *value;
        if (!end) return NULL;
        p = mj_ws(end);
        if (*p != ':') return NULL;
        value = mj_ws(p + 1);
        if ((size_t)(end - name) == key_len + 2 && memcmp(name + 1, key, key_len) == 0) {
            return value;
        }
        p = mj_ws(mj_skip(value));
        if (!p || *p != ',') return NULL;
        p = mj_ws(p + 1);
    }
}

/* Element `index` of the array at arr, or NULL. */
static inline const char *mj_at(const char *arr, size_t index) {
    const char *p = mj_ws(arr);
    if (!p || *p != '[') return NULL;
    p = mj_ws(p + 1);
    if (*p == ']') return NULL;
    for (size_t i = 0;; i++) {
        if (i == index) return p;
        p = mj_ws(mj_skip(p));
        if (!p || *p != ',') return NULL;
        p = mj_ws(p + 1);
    }
}

/* The number of elements of the array at arr; 0 when it is no array. */
static inline size_t mj_len(const char *arr) {
    size_t n = 0;
    while (mj_at(arr, n)) n++;
    return n;
}

/* The last element of the array at arr, or NULL when it is empty or no
 * array. */
static inline const char *mj_last(const char *arr) {
    size_t n = mj_len(arr);
    return n ? mj_at(arr, n - 1) : NULL;
}

/* Whether the value at v is the JSON string `text` (no escapes in text). */
static inline int mj_eq(const char *v, const char *text) {
    size_t n = strlen(text);
    v = mj_ws(v);
    return v && v[0] == '"' && strncmp(v + 1, text, n) == 0 && v[n + 1] == '"';
}

/* Whether the value at v is the literal `word` (true, false, null). */
static inline int mj_is(const char *v, const char *word) {
    size_t n = strlen(word);
    v = mj_ws(v);
    return v && strncmp(v, word, n) == 0 && !(v[n] >= 'a' && v[n] <= 'z');
}

/* The integer at v (0 when there is none). */
static inline long long mj_int(const char *v) {
    v = mj_ws(v);
    return v ? strtoll(v, NULL, 10) : 0;
}

/* Copies the string value at v, unescaped, into buf (cap bytes with the
 * NUL); \u escapes outside ASCII become '?'. Returns buf, or NULL when v
 * is no string or it does not fit. */
static inline char *mj_string(const char *v, char *buf, size_t cap) {
    size_t n = 0;
    const char *p = mj_ws(v);
    if (!p || *p != '"' || cap == 0) return NULL;
    for (p++; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            p++;
            switch (*p) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                char hex[5] = {0};
                long code;
                if (strlen(p) < 5) return NULL;
                memcpy(hex, p + 1, 4);
                code = strtol(hex, NULL, 16);
                c = code > 0 && code < 0x80 ? (char)code : '?';
                p += 4;
                break;
            }
            case '\0': return NULL;
            default: c = *p; break;
            }
        }
        if (n + 1 >= cap) return NULL;
        buf[n++] = c;
    }
    if (*p != '"') return NULL;
    buf[n] = '\0';
    return buf;
}

#endif /* MINIJSON_H */
