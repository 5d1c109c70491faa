/*
 * certchain.h - the server's certificate chain in the Noise handshake
 * (wa-protocol(7) §2.7).
 *
 * The ServerHello's encrypted payload is a CertChain: the root key signs
 * the intermediate certificate's details, the intermediate's key signs the
 * leaf's, and the leaf's key must be the server's static Noise key.
 * wa_certchain_verify makes every check whatsmeow's verifyServerCert makes,
 * in the same order, so the first failing check is the one reported:
 *
 *   chain-decode            the payload is a CertChain protobuf
 *   chain-parts             leaf and intermediate each have details and signature
 *   intermediate-sig-length the intermediate signature is 64 bytes
 *   leaf-sig-length         the leaf signature is 64 bytes
 *   intermediate-sig        the root key signed the intermediate details
 *   intermediate-decode     the intermediate details decode
 *   intermediate-issuer     the intermediate's issuerSerial is 0
 *   intermediate-key-length the intermediate key is 32 bytes
 *   leaf-sig                the intermediate key signed the leaf details
 *   intermediate-validity   notBefore <= now <= notAfter
 *   leaf-decode             the leaf details decode
 *   leaf-issuer             the leaf's issuerSerial is the intermediate's serial
 *   leaf-key                the leaf key is the server's static key
 *   leaf-validity           notBefore <= now <= notAfter
 *
 * Signatures are XEdDSA over Curve25519 keys (libsignal-protocol-c's
 * curve_verify_signature), not Ed25519.
 */
#ifndef WA_CERTCHAIN_H
#define WA_CERTCHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* WhatsApp's root public key (32 bytes), trusted unless the caller
 * passes another (the simulated server's, in tests). */
extern const unsigned char wa_certchain_whatsapp_root[32];

#define WA_CERT_ISSUER_SERIAL 0 /* the intermediate's required issuerSerial */

/* Verify chain (len bytes) against root (32 bytes) for a server whose
 * static key is server_static (32 bytes), at now (unix seconds).  Returns
 * 0 or WA_EVERIFY; why (may be NULL) is "server certificate: CHECK: detail"
 * with CHECK one of the names above.  WA_ENOMEM. */
int wa_certchain_verify(const void *chain, size_t len, const unsigned char root[32],
    const unsigned char server_static[32], int64_t now, struct wa_why *why);

#endif
