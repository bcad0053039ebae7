/* sudi.h: per-machine SUDI certificates (spec keysets.md "SUDI"), issued by
 * the keyset's sudi-ca for a project's product uuid. */
#pragma once

#include <stddef.h>

/* The older tool's doSudiCert. Issues a SUDI keypair and cert for machine
 * `serial` (NULL: a fresh UUID) of `project` in `keyset`:
 * subject CN=<serial>, serialNumber="PID:<product uuid> SN:<serial>",
 * NotAfter 2099-12-31 23:00:00Z, digitalSignature/keyEncipherment/
 * dataEncipherment, EKU serverAuth+clientAuth.
 * out_dir NULL: written atomically to <project>/sudi/<serial>/ (an existing
 * serial is refused). Otherwise cert.pem and privkey.pem (0600) are created
 * with O_EXCL in the existing out_dir (e.g. a VM's provisioning disk dir).
 * ret_serial (may be NULL) receives the serial; free() it. */
int sudi_issue(const char *keyset, const char *project, const char *serial, const char *out_dir,
               char **ret_serial);

int sudi_list(const char *keyset, const char *project, char ***ret, size_t *ret_n);
