// Type tests for the authoring API: inputs are inferred from their schemas, and `run` may only
// return declared outputs of the declared types.

import { Type } from "typebox";
import { describe, expectTypeOf, it } from "vitest";
import type { StageResult, WorkflowContext } from "../../extensions/workflows/authoring/types.js";
import { workflow } from "../../extensions/workflows/authoring/workflow.js";

describe("workflow() types", () => {
	it("infers ctx.inputs from the input schemas", () => {
		workflow({
			name: "inference",
			description: "types",
			inputs: { target: Type.String(), count: Type.Optional(Type.Integer()), tags: Type.Array(Type.String()) },
			outputs: { result: Type.String() },
			run: async (ctx) => {
				expectTypeOf(ctx.inputs.target).toEqualTypeOf<string>();
				expectTypeOf(ctx.inputs.count).toEqualTypeOf<number | undefined>();
				expectTypeOf(ctx.inputs.tags).toEqualTypeOf<string[]>();
				// @ts-expect-error: undeclared inputs do not exist
				ctx.inputs.other;
				return { result: ctx.inputs.target };
			},
		});
	});

	it("rejects undeclared or mistyped outputs at compile time", () => {
		workflow({
			name: "undeclared",
			description: "types",
			inputs: {},
			outputs: { result: Type.String() },
			// @ts-expect-error: "extra" is not a declared output
			run: async () => ({ result: "x", extra: 1 }),
		});
		workflow({
			name: "mistyped",
			description: "types",
			inputs: {},
			outputs: { result: Type.String() },
			// @ts-expect-error: result must be a string
			run: async () => ({ result: 42 }),
		});
		workflow({
			name: "missing",
			description: "types",
			inputs: {},
			outputs: { result: Type.String() },
			// @ts-expect-error: result is required
			run: async () => ({}),
		});
	});

	it("types parallel results by step kind", () => {
		const check = async (ctx: WorkflowContext<Record<string, never>>) => {
			const results = await ctx.parallel([{ name: "a", prompt: "A" }, async () => 42]);
			expectTypeOf(results).toEqualTypeOf<[StageResult, number]>();
		};
		expectTypeOf(check).toBeFunction();
	});

	it("takes a workflow without name, inputs or outputs (as Atomic files write it), and task for prompt", () => {
		const definition = workflow({
			description: "types",
			run: async (ctx) => {
				// @ts-expect-error: no inputs are declared
				ctx.inputs.other;
				await ctx.task("a", { task: "A", excludedTools: ["bash"] });
				return {};
			},
		});
		expectTypeOf(definition.name).toEqualTypeOf<string>();
		workflow({
			description: "types",
			// @ts-expect-error: no outputs are declared, so none may be returned
			run: async () => ({ result: "x" }),
		});
	});
});
