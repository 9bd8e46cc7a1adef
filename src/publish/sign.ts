/**
 * Signing with a given GPG key: RPM packages with rpmsign, repomd.xml with a
 * detached armored signature, apt's Release with Release.gpg and InRelease.
 * gpg runs in batch mode with loopback pinentry: the key must be usable
 * without a prompt (no passphrase, or one cached by gpg-agent).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../run.ts';
import { InputError, ToolError } from '../errors.ts';

export interface SignOptions {
  key: string;
  /** GNUPGHOME to use instead of the default. */
  gpgHome?: string;
}

const gpgEnv = (options: SignOptions) => (options.gpgHome ? { GNUPGHOME: path.resolve(options.gpgHome) } : {});
const GPG_BATCH = ['--batch', '--yes', '--pinentry-mode', 'loopback'];

/** Fails early, with a clear message, when the key cannot sign. */
export async function checkSigningKey(options: SignOptions): Promise<void> {
  const result = await run(['gpg', '--batch', '--with-colons', '--list-secret-keys', options.key], { env: gpgEnv(options), allowFailure: true });
  if (result.exitCode !== 0 || !/^sec:/m.test(result.stdout)) {
    const where = options.gpgHome ? `GNUPGHOME ${options.gpgHome}` : 'the default GnuPG home';
    throw new InputError(`--sign ${options.key}: no secret key with that id in ${where} (gpg --list-secret-keys shows the usable keys)`);
  }
}

/** `file.asc` style: detached, ASCII-armored. */
export async function detachSign(file: string, output: string, options: SignOptions): Promise<void> {
  await run(['gpg', ...GPG_BATCH, '--local-user', options.key, '--armor', '--detach-sign', '--output', output, file], { env: gpgEnv(options) });
}

/** InRelease style: the text with its signature inline. */
export async function clearSign(file: string, output: string, options: SignOptions): Promise<void> {
  await run(['gpg', ...GPG_BATCH, '--local-user', options.key, '--clearsign', '--output', output, file], { env: gpgEnv(options) });
}

/** The gpg that `run` would start: rpm's own default (%__gpg) is /usr/bin/gpg2 on Debian, which gnupg no longer ships. */
async function gpgPath(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'gpg');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  throw new ToolError('gpg: command not found (install it with: apt-get install gnupg)');
}

/** Adds the key's signature to each RPM, in place. */
export async function signRpms(files: string[], options: SignOptions): Promise<void> {
  if (files.length === 0) return;
  const defines = [
    '--define', `__gpg ${await gpgPath()}`,
    '--define', `_gpg_name ${options.key}`,
    '--define', '_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback',
    ...(options.gpgHome ? ['--define', `_gpg_path ${path.resolve(options.gpgHome)}`] : []),
  ];
  await run(['rpmsign', '--addsign', ...defines, ...files], { env: gpgEnv(options) });
}
