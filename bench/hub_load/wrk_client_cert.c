/* wrk has no client-certificate option: preloaded into wrk, this loads
 * $WRK_CLIENT_CERT and $WRK_CLIENT_KEY into every SSL_CTX it creates, so that
 * wrk can speak mutual TLS (bench/hub_load/run.sh --wrk builds and uses it).
 *
 *   cc -shared -fPIC -o wrk_client_cert.so wrk_client_cert.c -ldl -lssl
 *   WRK_CLIENT_CERT=a.crt WRK_CLIENT_KEY=a.key LD_PRELOAD=./wrk_client_cert.so wrk ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

SSL_CTX* SSL_CTX_new(const SSL_METHOD* method) {
  SSL_CTX* (*real)(const SSL_METHOD*) = (SSL_CTX * (*)(const SSL_METHOD*)) dlsym(RTLD_NEXT, "SSL_CTX_new");
  SSL_CTX* ctx = real(method);
  const char* cert = getenv("WRK_CLIENT_CERT");
  const char* key = getenv("WRK_CLIENT_KEY");
  if (ctx != NULL && cert != NULL && key != NULL &&
      (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)) {
    fprintf(stderr, "wrk_client_cert: cannot load %s / %s\n", cert, key);
    abort();
  }
  return ctx;
}
