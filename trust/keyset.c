/* keyset.c: keyset locations and layout (spec keysets.md). */
#include "keyset.h"

#include <stdio.h>
#include <sys/stat.h>

#include "util.h"

const char *const keyset_keydirs[] = {
        "manifest-ca",  "sudi-ca", "uefi-pk",      "uefi-kek",     "uefi-db",
        "uki-production", "uki-tpm", "uki-limited", "tpmpol-admin", "tpmpol-luks",
};
const unsigned keyset_n_keydirs = ELEMENTSOF(keyset_keydirs);

int keysets_root(char **ret)
{
        _cleanup_free_ char *data = NULL;
        int r = xdg_dir("XDG_DATA_HOME", ".local/share", &data);

        if (r < 0)
                return r;
        *ret = path_join(data, "machine/trust/keys");
        return 0;
}

int keyset_path(const char *keyset, char **ret)
{
        _cleanup_free_ char *root = NULL, *p = NULL;
        struct stat st;
        int r;

        r = name_validate("keyset", keyset);
        if (r < 0)
                return r;
        r = keysets_root(&root);
        if (r < 0)
                return r;
        p = path_join(root, keyset);
        if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
                return errf(-ENOENT, "keyset '%s' does not exist (in %s)", keyset, root);
        *ret = TAKE_PTR(p);
        return 0;
}

char *keyset_file(const char *keyset_dir, const char *keydir, const char *file)
{
        return xasprintf("%s/%s/%s", keyset_dir, keydir, file);
}
