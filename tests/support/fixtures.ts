// What several test files share: a promise to resolve from outside, and the two-stage workflow the ownership
// and store tests crash and resume.

import { Type } from "typebox";
import { workflow } from "../../extensions/workflows/authoring/workflow.js";

/** A promise and the function that resolves it, for barriers between a test and the run it drives. */
export function deferred<T = void>() {
	let resolve!: (value: T) => void;
	const promise = new Promise<T>((done) => {
		resolve = done;
	});
	return { promise, resolve };
}

/** Two stages, "first" then "second"; the result is the second's text. */
export const twoStages = workflow({
	name: "two-stages",
	description: "first, then second",
	inputs: {},
	outputs: { result: Type.String() },
	run: async (ctx) => {
		await ctx.task("first", { prompt: "one" });
		return { result: (await ctx.task("second", { prompt: "two" })).text };
	},
});
