/*
 * signalctx.h - a libsignal-protocol-c context with OpenSSL as its crypto.
 *
 * libsignal-protocol-c does no cryptography of its own beyond Curve25519:
 * randomness, HMAC-SHA256, SHA-512 and AES come from a signal_crypto_provider
 * the application installs in its signal_context.  This one is OpenSSL 3:
 *
 *   random       RAND_bytes
 *   HMAC-SHA256  EVP_MAC "HMAC" with digest SHA256
 *   SHA-512      EVP_MD_CTX (the context is re-initialised after each final,
 *                as the provider contract asks)
 *   AES          EVP_aes_{128,192,256}_{ctr,cbc} by key length:
 *                SG_CIPHER_AES_CTR_NOPADDING (no padding, 16-byte IV) and
 *                SG_CIPHER_AES_CBC_PKCS5 (PKCS#7 padding)
 *
 * HMAC keys live inside OpenSSL's MAC context (which clears them on free);
 * cipher keys are only ever passed through.  The context logs nothing.
 *
 *	signal_context *sc;
 *	if (wa_signalctx_new(&sc) < 0) ...
 *	curve_calculate_signature(sc, &sig, key, msg, len);
 *	wa_signalctx_free(sc);
 *
 * A context is not shared between threads (no lock functions are set).
 */
#ifndef WA_SIGNALCTX_H
#define WA_SIGNALCTX_H

#include <signal/signal_protocol.h>

#include "base/err.h"

/* A new context with the OpenSSL provider.  Returns 0 or WA_ENOMEM. */
int wa_signalctx_new(signal_context **out);

/* Destroy a context (NULL-safe). */
void wa_signalctx_free(signal_context *ctx);

/* The provider itself, for code that installs it in a context it made. */
extern const signal_crypto_provider wa_signalctx_provider;

#endif
