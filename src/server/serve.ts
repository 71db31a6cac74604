export async function serve(_o: { port: number; host: string }): Promise<void> {
  throw new Error("not yet");
}
