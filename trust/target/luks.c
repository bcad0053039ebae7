/* luks.c: LUKS2 through libcryptsetup (see luks.h). */
#include "target/luks.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <string.h>

#include "base/util.h"

static void crypt_freep(struct crypt_device **cd)
{
        if (*cd)
                crypt_free(*cd);
}

int luks_format(const char *device, const void *pass, size_t len, const char *keyring_key)
{
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        /* The passphrases are 40 random characters (~238 bits): a costly KDF
         * adds nothing, a cheap one keeps boot and provisioning fast. */
        struct crypt_pbkdf_type pbkdf = {
                .type = CRYPT_KDF_PBKDF2,
                .hash = "sha256",
                .iterations = 1000,
                .flags = CRYPT_PBKDF_NO_BENCHMARK,
        };
        struct crypt_params_luks2 params = { .sector_size = 512 };
        int r, slot;

        r = crypt_init(&cd, device);
        if (r < 0)
                return errf(r, "%s: cannot open for LUKS: %s", device, strerror(-r));
        r = crypt_set_pbkdf_type(cd, &pbkdf);
        if (r < 0)
                return errf(r, "%s: LUKS2 PBKDF setup: %s", device, strerror(-r));
        r = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, &params);
        if (r < 0)
                return errf(r, "%s: LUKS2 format: %s", device, strerror(-r));
        slot = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, pass, len);
        if (slot < 0)
                return errf(slot, "%s: LUKS2 keyslot: %s", device, strerror(-slot));
        if (keyring_key) {
                struct crypt_token_params_luks2_keyring tp = { .key_description = keyring_key };
                int token = crypt_token_luks2_keyring_set(cd, CRYPT_ANY_TOKEN, &tp);

                if (token < 0)
                        return errf(token, "%s: LUKS2 keyring token: %s", device,
                                    strerror(-token));
                r = crypt_token_assign_keyslot(cd, token, slot);
                if (r < 0)
                        return errf(r, "%s: LUKS2 keyring token: %s", device, strerror(-r));
        }
        return 0;
}

int luks_check_passphrase(const char *device, const void *pass, size_t len)
{
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        int r;

        r = crypt_init(&cd, device);
        if (r < 0)
                return errf(r, "%s: cannot open: %s", device, strerror(-r));
        r = crypt_load(cd, CRYPT_LUKS2, NULL);
        if (r < 0)
                return errf(r, "%s: not a LUKS2 volume: %s", device, strerror(-r));
        /* A NULL name checks the passphrase against the keyslots only. */
        r = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, pass, len, 0);
        if (r < 0)
                return errf(r == -ENOENT || r == -EPERM ? -EPERM : r,
                            "%s: the passphrase opens no keyslot", device);
        return 0;
}
