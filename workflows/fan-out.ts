// Builtin: fan out. A planner splits the job into independent slices (a structured result); the slices run side
// by side under a concurrency limit, each in a fresh context writing its result to a file of its own; a synthesis
// reads the files. Handoffs go through files, never whole texts in prompts.

import { workflow } from "pi-workflows";
import { Type } from "typebox";

const Plan = Type.Object({
	slices: Type.Array(
		Type.Object({
			name: Type.String({ pattern: "^[a-z0-9][a-z0-9-]*$", description: "Short kebab-case name, unique" }),
			prompt: Type.String({ minLength: 1, description: "The slice's whole task: it sees nothing else" }),
		}),
		{ minItems: 1, maxItems: 50 },
	),
});

export default workflow({
	name: "fan-out",
	description: "Plan independent slices, run them in parallel (each writing a file), then synthesize from the files",
	inputs: {
		goal: Type.String({ minLength: 1, description: "The whole job" }),
		maxSlices: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: "Default 8" })),
		concurrency: Type.Optional(
			Type.Integer({ minimum: 1, maximum: 16, description: "Slices in flight (default 4)" }),
		),
		tools: Type.Optional(
			Type.Array(Type.String(), { description: "Tools of the slices (default read, ls, grep, find, bash)" }),
		),
	},
	outputs: {
		result: Type.String({ description: "The synthesis" }),
		slices: Type.Array(Type.Object({ name: Type.String(), file: Type.String() })),
	},
	run: async (ctx) => {
		const maxSlices = ctx.inputs.maxSlices ?? 8;
		const plan = await ctx.task("plan", {
			prompt: [
				`Split this job into at most ${maxSlices} independent slices that can be done side by side, each with a prompt that says everything its worker needs (a worker sees only its own prompt):`,
				ctx.inputs.goal,
			].join("\n\n"),
			tools: ["read", "ls", "grep", "find"],
			schema: Plan,
		});
		const slices = plan.structured.slices;
		const names = new Set<string>();
		for (const slice of slices) {
			if (names.has(slice.name)) {
				return ctx.exit({
					status: "failed",
					reason: `the plan named two slices "${slice.name}"; slice names must be unique`,
				});
			}
			names.add(slice.name);
		}
		if (slices.length > maxSlices) {
			return ctx.exit({
				status: "failed",
				reason: `the plan has ${slices.length} slices, more than maxSlices ${maxSlices}`,
			});
		}
		const done = await ctx.parallel(
			slices.map((slice) => ({
				name: slice.name,
				prompt: slice.prompt,
				context: "fresh" as const,
				tools: ctx.inputs.tools ?? ["read", "ls", "grep", "find", "bash"],
				output: `slices/${slice.name}.md`,
				outputMode: "file-only" as const,
			})),
			{ concurrency: ctx.inputs.concurrency ?? 4 },
		);
		const files = done.map((result) => result.outputPath ?? "");
		const synthesis = await ctx.task("synthesis", {
			prompt: `Synthesize the slices' results into one answer to the job:\n\n${ctx.inputs.goal}`,
			reads: files,
			tools: ["read"],
		});
		return {
			result: synthesis.text,
			slices: done.map((result, index) => ({ name: result.name, file: files[index] ?? "" })),
		};
	},
});
