/* test-sudi.c: the library entry points `trust vm` uses: keyset_create and
 * sudi_issue() into a caller's directory (the VM's provisioning disk dir),
 * with a private XDG data dir. */
#include <openssl/x509v3.h>
#include <stdio.h>
#include <sys/stat.h>

#include "harness.h"
#include "keys/keyset.h"
#include "keys/project.h"
#include "keys/sudi.h"
#include "keys/x509.h"
#include "keys/keyset-path.h"
#include "base/dirlist.h"

static char top[] = "/tmp/test-sudi-XXXXXX";

static void test_sudi_into_dir(void)
{
        _cleanup_free_ char *out = path_join(top, "provision"), *serial = NULL, *serial2 = NULL;
        _cleanup_free_ char *cp = path_join(out, "cert.pem"), *kp = path_join(out, "privkey.pem");
        _cleanup_free_ char *ks = NULL, *ca_dir = NULL, *uuid_path = NULL;
        _cleanup_free_ uint8_t *uuid = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL, *ca = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL, *ca_key = NULL;
        char buf[256], want[256];
        struct stat st;
        size_t len;

        ASSERT_OK(mkdir(out, 0700));
        ASSERT_OK(sudi_issue("vmks", "default", NULL, out, &serial));
        ASSERT_EQ(strlen(serial), 36);
        ASSERT_OK(stat(kp, &st));
        ASSERT_EQ(st.st_mode & 07777, 0600);
        ASSERT_OK(pem_load_cert(cp, &cert));
        ASSERT_OK(pem_load_privkey(kp, &key));
        ASSERT_EQ(X509_check_private_key(cert, key), 1);

        ASSERT_OK(keyset_path("vmks", &ks));
        uuid_path = xasprintf("%s/manifest/default/uuid", ks);
        ASSERT_OK(read_file(uuid_path, 64, &uuid, &len));
        X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
        snprintf(want, sizeof(want), "/CN=%s/serialNumber=PID:%s SN:%s", serial, (char *)uuid, serial);
        ASSERT_STREQ(buf, want);

        ca_dir = path_join(ks, "sudi-ca");
        ASSERT_OK(x509_load_ca(ca_dir, &ca, &ca_key));
        ASSERT_EQ(X509_verify(cert, ca_key), 1);
        ASSERT_TRUE(X509_get_extended_key_usage(cert) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));

        /* nothing was recorded in the project for a VM's SUDI */
        {
                _cleanup_free_ char *sdir = xasprintf("%s/manifest/default/sudi", ks);
                char **names = NULL;
                size_t n;
                ASSERT_OK(subdir_names(sdir, &names, &n));
                ASSERT_EQ(n, 0);
                strv_free(names);
        }
        /* the files are O_EXCL: a second SUDI into the same dir is refused */
        ASSERT_EQ(sudi_issue("vmks", "default", NULL, out, &serial2), -EEXIST);
        ASSERT_TRUE(serial2 == NULL);
        ASSERT_TRUE(strstr(err_msg(-EEXIST), "privkey.pem") != NULL);
        /* a given serial into the keyset */
        ASSERT_OK(sudi_issue("vmks", "default", "host-7", NULL, &serial2));
        ASSERT_STREQ(serial2, "host-7");
        ASSERT_EQ(sudi_issue("vmks", "default", "host-7", NULL, NULL), -EEXIST);
        ASSERT_EQ(sudi_issue("vmks", "nosuch", NULL, NULL, NULL), -ENOENT);
        ASSERT_TRUE(strstr(err_msg(-ENOENT), "project 'nosuch' does not exist") != NULL);
        ASSERT_EQ(sudi_issue("nosuch", "default", NULL, NULL, NULL), -ENOENT);
        ASSERT_EQ(sudi_issue("vmks", "default", "a/b", NULL, NULL), -EINVAL);
}

int main(void)
{
        _cleanup_free_ char *data = NULL;
        int r;

        if (!mkdtemp(top))
                return 1;
        data = path_join(top, "data");
        setenv("XDG_DATA_HOME", data, 1);
        r = keyset_create("vmks", NULL, 0, NULL);
        if (r < 0) {
                fprintf(stderr, "keyset_create: %s\n", err_msg(r));
                rm_rf(top);
                return 1;
        }
        RUN(test_sudi_into_dir);
        rm_rf(top);
        return test_exit();
}
