import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const OPENSSL = "/usr/bin/openssl";
const DAY_MS = 24 * 60 * 60 * 1000;

/** Files of a throw-away PKI: a test CA and one server certificate signed by it. */
export interface TestPki {
  /** Directory holding every generated file. */
  dir: string;
  /** PEM certificate of the test CA (mode 0644): what clients put in `ssl.ca`/`sslrootcert`. */
  caFile: string;
  /** PEM private key of the test CA (mode 0600). */
  caKeyFile: string;
  /** PEM server certificate, CN localhost, SAN `IP:127.0.0.1, DNS:localhost` (mode 0644). */
  serverCertFile: string;
  /** PEM private key of the server certificate (mode 0600, owned by the caller). */
  serverKeyFile: string;
}

/** Options for {@link createTestPki}. */
export interface TestPkiOptions {
  /** Distinguishes CAs: the CA's CN is `lava-aurora test CA <name>`. Default "default". */
  name?: string;
  /** Start of validity of both certificates. Default: now minus 25 hours. */
  notBefore?: Date;
  /** End of validity of both certificates. Default: now plus 2 days. */
  notAfter?: Date;
}

/** Formats a date as the ASN.1 GeneralizedTime string `openssl ca` accepts. */
function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
}

function caConfig(dir: string): string {
  return `[ ca ]
default_ca = test_ca

[ test_ca ]
database = ${join(dir, "index.txt")}
new_certs_dir = ${join(dir, "newcerts")}
serial = ${join(dir, "serial")}
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none

[ policy_any ]
commonName = supplied

[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_server ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
`;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run(OPENSSL, args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(error)}`);
  }
}

async function newKey(file: string): Promise<void> {
  await openssl([
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    file,
  ]);
  await chmod(file, 0o600);
}

/**
 * Generates, with the openssl CLI, a fresh EC P-256 test CA (CN `lava-aurora test CA <name>`)
 * and a server certificate for `localhost`/`127.0.0.1` signed by it, valid from 25 hours ago to
 * 2 days ahead unless told otherwise. Each call makes an unrelated CA, so a second call with
 * another name serves "wrong CA fails verification" tests.
 *
 * @param dir directory to write into; created if missing. Files go into a fresh subdirectory.
 * @param opts CA name and validity window.
 * @returns absolute paths of the generated files.
 */
export async function createTestPki(dir: string, opts: TestPkiOptions = {}): Promise<TestPki> {
  const name = opts.name ?? "default";
  await mkdir(dir, { recursive: true });
  const root = await mkdtemp(join(resolve(dir), `pki-${name.replace(/[^\w.-]/g, "_")}-`));
  await chmod(root, 0o755);
  await mkdir(join(root, "newcerts"));
  await writeFile(join(root, "index.txt"), "");
  await writeFile(join(root, "serial"), `01${randomBytes(15).toString("hex")}\n`);
  const config = join(root, "ca.cnf");
  await writeFile(config, caConfig(root));

  const now = Date.now();
  const dates = [
    "-startdate",
    asn1Time(opts.notBefore ?? new Date(now - DAY_MS - 60 * 60 * 1000)),
    "-enddate",
    asn1Time(opts.notAfter ?? new Date(now + 2 * DAY_MS)),
  ];
  const sign = ["ca", "-batch", "-notext", "-config", config, ...dates];

  const caKeyFile = join(root, "ca.key");
  const caCsr = join(root, "ca.csr");
  const caFile = join(root, "ca.crt");
  await newKey(caKeyFile);
  const caSubject = `/CN=lava-aurora test CA ${name}`;
  await openssl(["req", "-new", "-key", caKeyFile, "-subj", caSubject, "-out", caCsr]);
  await openssl([
    ...sign,
    ...["-selfsign", "-keyfile", caKeyFile, "-extensions", "v3_ca"],
    ...["-in", caCsr, "-out", caFile],
  ]);

  const serverKeyFile = join(root, "server.key");
  const serverCsr = join(root, "server.csr");
  const serverCertFile = join(root, "server.crt");
  await newKey(serverKeyFile);
  await openssl([
    "req",
    "-new",
    "-key",
    serverKeyFile,
    "-subj",
    "/CN=localhost",
    "-out",
    serverCsr,
  ]);
  await openssl([
    ...sign,
    ...["-cert", caFile, "-keyfile", caKeyFile, "-extensions", "v3_server"],
    ...["-in", serverCsr, "-out", serverCertFile],
  ]);

  await chmod(caFile, 0o644);
  await chmod(serverCertFile, 0o644);
  return { dir: root, caFile, caKeyFile, serverCertFile, serverKeyFile };
}
