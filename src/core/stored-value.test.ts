import { describe, expect, it } from "vitest";
import { z } from "zod";
import { storedValue } from "./stored-value";

/** The two SyncKvStorage calls storedValue uses, over a Map, counting reads. */
function fakeKv() {
  const data = new Map<string, unknown>();
  let reads = 0;
  const kv = {
    get: (key: string) => {
      reads += 1;
      return data.get(key);
    },
    put: (key: string, value: unknown) => void data.set(key, value),
  };
  return { kv: kv as unknown as SyncKvStorage, data, reads: () => reads };
}

const Counter = z.object({ n: z.int() });

describe("storedValue", () => {
  it("reads storage once, then serves the copy; saves write through", () => {
    const { kv, data, reads } = fakeKv();
    data.set("c", { n: 1 });
    const value = storedValue(kv, "c", Counter);
    expect(value.load()).toEqual({ n: 1 });
    expect(value.load()).toEqual({ n: 1 });
    expect(reads()).toBe(1);
    value.save({ n: 2 });
    expect(data.get("c")).toEqual({ n: 2 });
    expect(value.load()).toEqual({ n: 2 });
    expect(reads()).toBe(1);
  });

  it("remembers absence too, and re-reads after forget()", () => {
    const { kv, data, reads } = fakeKv();
    const value = storedValue(kv, "c", Counter);
    expect(value.load()).toBeUndefined();
    expect(value.load()).toBeUndefined();
    expect(reads()).toBe(1);
    data.set("c", { n: 5 }); // written behind its back, as a wiped-and-restored storage would be
    value.forget();
    expect(value.load()).toEqual({ n: 5 });
    expect(reads()).toBe(2);
  });

  it("treats a stored value that fails its schema as absent", () => {
    const { kv, data } = fakeKv();
    data.set("c", { n: "not a number" });
    expect(storedValue(kv, "c", Counter).load()).toBeUndefined();
  });
});
