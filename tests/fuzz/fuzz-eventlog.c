/* fuzz-eventlog.c: libFuzzer target for the event log parser and what
 * `trust eventlog` does with a parsed log: replay, name every PCR7 event,
 * parse variable data and walk and describe their signature lists. */
#include <stdio.h>

#include "base/util.h"
#include "formats/esl.h"
#include "formats/eventlog.h"
#include "keys/eventlog-match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int describe(const efi_guid *type, const efi_guid *owner, const uint8_t *d, size_t len,
                    void *userdata)
{
        char buf[256];

        (void)owner;
        (void)userdata;
        esl_entry_describe(type, d, len, buf, sizeof(buf));
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t pcrs[EVLOG_PCRS][32];
        bool used[EVLOG_PCRS];
        struct eventlog log;

        if (eventlog_parse(data, size, &log) < 0)
                return 0;
        eventlog_replay(&log, pcrs, used);
        for (size_t i = 0; i < log.n; i++) {
                const struct evlog_event *e = &log.events[i];
                struct evlog_var v;
                char nb[72];

                (void)evlog_pcr7_name(e, nb, sizeof(nb));
                (void)evlog_type_name(e->type);
                if (evlog_var_parse(e->data, e->len, &v) >= 0)
                        (void)esl_walk(v.data, v.len, describe, NULL);
        }
        {
                /* the keyset comparison, against variables made of the log's
                 * own first variable event (so the explanations walk hostile
                 * lists on both sides) */
                static uint8_t auth[_UKI_CLASS_MAX][20] = { { 1 }, { 2 }, { 3 } };
                const char *refused[_UKI_CLASS_MAX] = { NULL, NULL, "fuzz" };
                struct keyset_efi_vars kv = { 0 };
                struct evlog_match m;

                for (size_t i = 0; i < log.n && !kv.pk; i++) {
                        struct evlog_var v;

                        if (evlog_var_parse(log.events[i].data, log.events[i].len, &v) >= 0 &&
                            v.len > 0) {
                                kv.pk = kv.kek = kv.db = (uint8_t *)v.data;
                                kv.pk_len = kv.kek_len = kv.db_len = v.len;
                        }
                }
                for (int c = 0; c < _UKI_CLASS_MAX; c++) {
                        kv.authority[c] = auth[c];
                        kv.authority_len[c] = sizeof(auth[c]);
                }
                if (kv.pk)
                        (void)eventlog_match(&log, &kv, refused, &m);
        }
        eventlog_done(&log);
        return 0;
}
