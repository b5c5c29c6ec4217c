#include "shim_msg.h"

#include <stdio.h>
#include <string.h>

void wr_msg_from_error(struct wr_msg *m, enum wr_msg_type type, const wr_error *err)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->num = err->errnum;
    snprintf(m->text, sizeof m->text, "%s", err->msg);
}
