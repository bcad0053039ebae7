/* keyset-pcr7data.c: placeholder for the pcr7data step of keyset creation.
 * The PCR7 module replaces this file with the real one (the three PCR7 values
 * of the keyset and the signed luks/passwd policies, spec keysets.md
 * "pcr7data"); until then a new keyset gets an empty pcr7data/ dir. */
#include <sys/stat.h>

#include "keyset.h"
#include "util.h"

int keyset_write_pcr7data(const char *tmp_keyset_dir, const char *keyset_name _unused_)
{
        _cleanup_free_ char *p = path_join(tmp_keyset_dir, "pcr7data");

        if (mkdir(p, 0750) < 0)
                return errf(-errno, "%s: %s", p, strerror(errno));
        return 0;
}
