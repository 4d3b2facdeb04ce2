// Builtin: scout a change, review it in parallel for correctness and maintainability, then synthesize.
// The scout's map travels as a file (file-only), so the reviewers start with fresh, small contexts.

import { workflow } from "pi-workflows";
import { Type } from "typebox";

export default workflow({
	name: "review-change",
	description: "Scout a change, review it in parallel (correctness, maintainability), synthesize one verdict",
	inputs: {
		target: Type.String({ description: "What to review: a PR, a branch, a commit range or a path" }),
		reviewerModel: Type.Optional(
			Type.String({ description: "Model for the correctness reviewer (provider/id[:level])" }),
		),
	},
	outputs: { result: Type.String({ description: "The synthesized review" }) },
	run: async (ctx) => {
		await ctx.task("scout", {
			prompt: `Map the context of ${ctx.inputs.target}: the files it touches, what they do, and the risks to check.`,
			output: "scout.md",
			outputMode: "file-only",
			tools: ["read", "bash"],
		});
		const reviews = await ctx.parallel(
			[
				{
					name: "correctness",
					prompt: `Review ${ctx.inputs.target} for correctness: bugs, edge cases, broken contracts.`,
					reads: ["scout.md"],
					tools: ["read", "bash"],
					...(ctx.inputs.reviewerModel ? { model: ctx.inputs.reviewerModel } : {}),
				},
				{
					name: "maintainability",
					prompt: `Review ${ctx.inputs.target} for maintainability: naming, structure, duplication, tests.`,
					reads: ["scout.md"],
					tools: ["read", "bash"],
				},
			],
			{ concurrency: 2 },
		);
		const final = await ctx.task("synthesis", {
			prompt: "Synthesize the reviews into one verdict with the findings that matter, most important first.",
			previous: reviews,
			tools: [],
		});
		return { result: final.text };
	},
});
