# tests/helpers/authfolder.sh - a small paired auth folder for the shell
# tests (sourced after tests/lib.sh): mkfolder DIR [unpaired], creds [unpaired].
K32A=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=
K32B=ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=
K64=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==
kp() { printf '{"private":{"type":"Buffer","data":"%s"},"public":{"type":"Buffer","data":"%s"}}' $K32A $K32B; }
creds() {
	printf '{"noiseKey":%s,"pairingEphemeralKeyPair":%s,"signedIdentityKey":%s,' "$(kp)" "$(kp)" "$(kp)"
	printf '"signedPreKey":{"keyPair":%s,"signature":{"type":"Buffer","data":"%s"},"keyId":1},' "$(kp)" $K64
	printf '"registrationId":1234,"advSecretKey":"%s","nextPreKeyId":31,"firstUnuploadedPreKeyId":31' $K32A
	[ "${1:-paired}" = paired ] &&
	    printf ',"me":{"id":"15550001111:3@s.whatsapp.net","lid":"99990001111:3@lid"},"platform":"android","account":{"details":"%s","accountSignatureKey":"%s","accountSignature":"%s","deviceSignature":"%s"}' \
	    $K32A $K32B $K64 $K64
	printf '}'
}
# mkfolder DIR [unpaired]: 0700/0600 like Baileys under umask 077
mkfolder() {
	mkdir -m 700 "$1"
	creds "${2:-paired}" > "$1/creds.json"
	kp > "$1/pre-key-1.json"
	kp > "$1/pre-key-2.json"
	printf '{"_sessions":{},"version":"v1"}' > "$1/session-15550002222.0.json"
	printf '{"_sessions":{},"version":"v1"}' > "$1/session-99990003333_1.0.json"
	printf '"99990003333"' > "$1/lid-mapping-15550003333.json"
	chmod 600 "$1"/*
}
