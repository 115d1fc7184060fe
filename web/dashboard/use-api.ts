/** Loading an API resource into a screen: the value, the error, and a way to load it again. */
import { useCallback, useEffect, useState } from "preact/hooks";
import { errorText, type Json } from "./api.js";

export function useApi(load: () => Promise<Json>, deps: unknown[] = []) {
  const [data, setData] = useState<Json>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setData(await load());
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, reload };
}
