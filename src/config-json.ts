/** JSON given as text in the environment, or already an object in the FLASHVERIFY_CONFIG file. */
export const jsonText = (value: unknown): unknown => {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};
