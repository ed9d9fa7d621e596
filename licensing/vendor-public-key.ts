// LIC-2: the vendor's Ed25519 public key the appliance checks license files and check-in answers
// with. Compiled in (not read from a file beside the binary, nor configurable): a key the customer
// could swap would let anyone sign their own license. The matching private key never enters this
// repository; `npm run license -- keygen` makes a pair and prints this file's new content.
export const VENDOR_PUBLIC_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGEZHfupOqiTeu7/esOP3HnwQr0KRngjHjYK5FwGyjSw=
-----END PUBLIC KEY-----
`;
