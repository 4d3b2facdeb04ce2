// createLimiter: bounded concurrency, arrival order, counts, and a clear error for bad limits.

import { describe, expect, it } from "vitest";
import { createLimiter } from "../extensions/workflows/engine/limiter.js";
import { deferred } from "./support/fixtures.js";

describe("createLimiter", () => {
	it("runs at most `concurrency` functions at once, in arrival order", async () => {
		const limit = createLimiter(2);
		const started: number[] = [];
		const gates = Array.from({ length: 5 }, deferred);
		const runs = gates.map((gate, index) =>
			limit(async () => {
				started.push(index);
				await gate.promise;
				return index;
			}),
		);
		await Promise.resolve();
		expect(started).toEqual([0, 1]);
		expect(limit.activeCount).toBe(2);
		expect(limit.pendingCount).toBe(3);
		gates[1]?.resolve();
		await runs[1];
		await Promise.resolve();
		expect(started).toEqual([0, 1, 2]);
		for (const gate of gates) gate.resolve();
		expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
		expect(limit.peakCount).toBe(2);
	});

	it("continues after a rejected function", async () => {
		const limit = createLimiter(1);
		await expect(limit(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
		expect(await limit(async () => "next")).toBe("next");
	});

	it("frees the slot of a function that throws before it returns a promise", async () => {
		const limit = createLimiter(1);
		const throwsAtOnce = (): Promise<string> => {
			throw new Error("thrown synchronously");
		};
		await expect(limit(throwsAtOnce)).rejects.toThrow("thrown synchronously");
		expect(limit.activeCount).toBe(0);
		expect(await limit(async () => "next")).toBe("next");
	});

	it("says what it expected for a bad limit", () => {
		expect(() => createLimiter(0)).toThrow("Expected concurrency to be an integer from 1 and up, got 0 (number)");
	});
});
