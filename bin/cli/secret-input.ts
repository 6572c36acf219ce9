/** Reading a secret from stdin: piped (one trailing newline stripped) or typed without echo. */

/** Strip exactly one trailing newline (`\n` or `\r\n`). */
export function stripOneNewline(value: string): string {
  if (value.endsWith("\r\n")) return value.slice(0, -2);
  if (value.endsWith("\n")) return value.slice(0, -1);
  return value;
}

type Input = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

/** Read all of a piped stdin, or one hidden line from a terminal. */
export async function readSecretInput(
  stdin: Input,
  prompt: NodeJS.WritableStream,
): Promise<string> {
  if (stdin.isTTY && stdin.setRawMode) return readHiddenLine(stdin, prompt);
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return stripOneNewline(Buffer.concat(chunks).toString("utf8"));
}

function readHiddenLine(stdin: Input, prompt: NodeJS.WritableStream): Promise<string> {
  prompt.write("password (not echoed): ");
  stdin.setRawMode?.(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (err?: Error) => {
      stdin.setRawMode?.(false);
      stdin.pause();
      stdin.off("data", onData);
      prompt.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (data: Buffer | string) => {
      for (const ch of data.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003") return finish(new Error("interrupted"));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on("data", onData);
  });
}
