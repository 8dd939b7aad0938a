// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** True when the text holds a C0 control character or DEL (line breaks included). */
export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}
