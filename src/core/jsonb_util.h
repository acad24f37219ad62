/*-------------------------------------------------------------------------
 *
 * jsonb_util.h
 *	  Small jsonb helpers every room uses.
 *
 * Copyright (c) 2026, The pg_outbox developers
 *
 * IDENTIFICATION
 *	  src/core/jsonb_util.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef OUTBOX_JSONB_UTIL_H
#define OUTBOX_JSONB_UTIL_H

#include "utils/jsonb.h"

extern JsonbValue *outbox_jsonb_get(JsonbContainer *object, const char *key);
extern void outbox_jsonb_root_value(Jsonb *j, JsonbValue *out);
extern bool outbox_jsonb_next_pair(JsonbIterator **it, char **key, JsonbValue *value);
extern char *outbox_jsonb_scalar_cstring(JsonbValue *v);
extern Jsonb *outbox_jsonb_parse_or_null(const char *text, int len);
extern char *outbox_jsonb_get_string(JsonbContainer *object, const char *key);
extern void outbox_jsonb_push_string_attribute(JsonbParseState **state, const char *name, const char *value);
extern void outbox_jsonb_push_string(JsonbParseState **state, const char *key, const char *value);
extern void outbox_jsonb_push_value(JsonbParseState **state, const char *key, JsonbValue *value);

/* An attribute value given as a JSON scalar or string, checked; errors name "attr". */
extern int32 outbox_attr_int(JsonbValue *v, const char *attr, int32 min, int32 max);
extern bool outbox_attr_bool(JsonbValue *v, const char *attr);
extern Jsonb *outbox_attr_policy(JsonbValue *v, const char *attr);

#endif							/* OUTBOX_JSONB_UTIL_H */
