// Sizes for the example programs, from environment variables, so that a test can run an example
// small and fast and a user can run it large without editing it. A bad value stops the program
// with a message naming the variable, rather than running some other size.

export function envInt(name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}
