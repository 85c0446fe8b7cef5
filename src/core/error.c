#include "core/error.h"

static const struct {
	int status;
	const char *code;
	const char *msg;
} table[] = {
#define X(name, status, code, msg) [MERR_##name] = {status, code, msg},
	MANDI_ERRORS(X)
#undef X
};

int merr_status(enum merr e)
{
	return (unsigned)e < MERR__COUNT ? table[e].status : 500;
}

const char *merr_code(enum merr e)
{
	return (unsigned)e < MERR__COUNT ? table[e].code : "internal_error";
}

const char *merr_message(enum merr e)
{
	return (unsigned)e < MERR__COUNT ? table[e].msg : "internal error";
}
