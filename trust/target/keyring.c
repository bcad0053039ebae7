/* keyring.c: secrets in the kernel keyring (see keyring.h). A key is
 * added in the session keyring (so this process possesses it while setting its
 * permissions) and then moved to the target keyring, as the deployed initrds
 * expect (https://mjg59.dreamwidth.org/37333.html explains why). */
#include "target/keyring.h"

#include <errno.h>
#include <keyutils.h>
#include <string.h>

#include "base/util.h"

int keyring_target_from_string(const char *s, enum keyring_target *ret)
{
        if (!strcmp(s, "user"))
                *ret = KEYRING_USER;
        else if (!strcmp(s, "session"))
                *ret = KEYRING_SESSION;
        else
                return errf(-EINVAL, "keyring '%s': expected 'user' or 'session'", s);
        return 0;
}

static key_serial_t target_ring(enum keyring_target target)
{
        return target == KEYRING_USER ? KEY_SPEC_USER_KEYRING : KEY_SPEC_SESSION_KEYRING;
}

int keyring_add(enum keyring_target target, const char *description, const void *data, size_t len,
                int32_t *ret_serial)
{
        key_serial_t key;
        int r;

        key = add_key("user", description, data, len, KEY_SPEC_SESSION_KEYRING);
        if (key < 0)
                return errf(-errno, "keyring: adding %s: %s", description, strerror(errno));
        if (keyctl_setperm(key, KEY_POS_ALL | KEY_USR_ALL) < 0) {
                r = -errno;
                goto fail;
        }
        if (target == KEYRING_USER) {
                if (keyctl_link(key, KEY_SPEC_USER_KEYRING) < 0) {
                        r = -errno;
                        goto fail;
                }
                if (keyctl_unlink(key, KEY_SPEC_SESSION_KEYRING) < 0) {
                        r = -errno;
                        (void)keyctl_unlink(key, KEY_SPEC_USER_KEYRING);
                        goto fail;
                }
        }
        *ret_serial = key;
        return 0;
fail:
        (void)keyctl_invalidate(key);
        return errf(r, "keyring: storing %s: %s", description, strerror(-r));
}

int keyring_remove(enum keyring_target target, int32_t serial)
{
        if (keyctl_invalidate(serial) < 0 && keyctl_unlink(serial, target_ring(target)) < 0)
                return errf(-errno, "keyring: removing key %d: %s", serial, strerror(errno));
        return 0;
}

int keyring_find(const char *description, struct secret *ret)
{
        static const key_serial_t rings[] = { KEY_SPEC_USER_KEYRING, KEY_SPEC_SESSION_KEYRING };

        for (size_t i = 0; i < ELEMENTSOF(rings); i++) {
                key_serial_t key = keyctl_search(rings[i], "user", description, 0);
                long n;
                int r;

                if (key < 0)
                        continue;
                n = keyctl_read(key, NULL, 0);
                if (n < 0)
                        return errf(-errno, "keyring: reading %s: %s", description,
                                    strerror(errno));
                r = secret_alloc(ret, (size_t)n);
                if (r < 0)
                        return r;
                if (keyctl_read(key, (char *)ret->data, (size_t)n) != n) {
                        secret_free(ret);
                        return errf(-EIO, "keyring: reading %s: it changed", description);
                }
                return 0;
        }
        return -ENOKEY;
}
