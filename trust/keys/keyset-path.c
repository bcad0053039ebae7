/* keyset-path.c: where keysets live (spec keysets.md "Keyset layout"). */
#include "keys/keyset-path.h"

#include <sys/stat.h>

#include "base/util.h"

const char *const keyset_keydirs[] = {
        "manifest-ca",    "sudi-ca", "uefi-pk",     "uefi-kek",     "uefi-db",
        "uki-production", "uki-tpm", "uki-limited", "tpmpol-admin", "tpmpol-luks",
};
const unsigned keyset_n_keydirs = ELEMENTSOF(keyset_keydirs);

int keysets_root(char **ret)
{
        return xdg_dir("XDG_DATA_HOME", ".local/share", "machine/trust/keys", ret);
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

void keysets_clean_stale(void)
{
        _cleanup_free_ char *root = NULL;

        if (keysets_root(&root) >= 0)
                (void)clean_stale_tmp(root);
        err_clear();
}

