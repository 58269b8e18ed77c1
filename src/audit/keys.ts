// The chain's Ed25519 signing key: created once in <stateDir>/audit/signing-key.pem (mode 0600,
// never readable by others), loaded on every start. Auditors verify with the public key exported
// by `lacuna-fs audit pubkey`, ideally pinned out of band rather than read from the same host.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const KEY_FILE = 'signing-key.pem';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** First 16 hex digits of SHA-256 over the raw 32-byte public key. */
  keyId: string;
  publicKeyPem: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const raw = der.subarray(der.length - 32); // Ed25519 SPKI ends with the 32-byte key
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

export function publicKeyFromPem(pem: string): { publicKey: KeyObject; keyId: string } {
  const publicKey = createPublicKey(pem);
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 public key');
  return { publicKey, keyId: keyIdOf(publicKey) };
}

function fromPrivate(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('audit signing key is not Ed25519');
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Load the key in auditDir, creating it (0600, fsynced) on first start. */
export function loadOrCreateKey(auditDir: string): SigningKey {
  const file = join(auditDir, KEY_FILE);
  let pem: string | undefined;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (pem !== undefined) {
    // A key others can read signs nothing trustworthy; tighten rather than refuse to start.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return fromPrivate(createPrivateKey(pem));
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const text = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // 'wx': two processes racing on first start must not overwrite each other's key.
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(file, 0o600); // umask cannot widen it, but be explicit
  return fromPrivate(privateKey);
}

/** Read only the public half from a state dir (for `audit pubkey` / verify without a daemon). */
export function readPublicKey(auditDir: string): { publicKey: KeyObject; keyId: string; pem: string } {
  const k = fromPrivate(createPrivateKey(readFileSync(join(auditDir, KEY_FILE), 'utf8')));
  return { publicKey: k.publicKey, keyId: k.keyId, pem: k.publicKeyPem };
}
