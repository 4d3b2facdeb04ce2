// Builtin: adversarial verification. Independent reviewers, each in a fresh context (optionally each on a model of
// its own), judge a claim or a change against the given criteria and submit a structured verdict with evidence.
// The decision is reduced by code (majority or unanimous), never by another model's opinion; the outputs carry
// every verdict.

import { workflow } from "pi-workflows";
import { type Static, Type } from "typebox";

const Verdict = Type.Object({
	verdict: Type.Union([Type.Literal("pass"), Type.Literal("fail")]),
	evidence: Type.Array(Type.String({ minLength: 1 }), {
		minItems: 1,
		description: "What you saw that decides it: files and lines, command output, quotes",
	}),
	criteria: Type.Array(Type.Object({ criterion: Type.String(), met: Type.Boolean(), evidence: Type.String() }), {
		description: "Each criterion in turn",
	}),
});

const ReviewerVerdict = Type.Object({
	reviewer: Type.String(),
	model: Type.String(),
	verdict: Type.Union([Type.Literal("pass"), Type.Literal("fail")]),
	evidence: Type.Array(Type.String()),
	criteria: Type.Array(Type.Object({ criterion: Type.String(), met: Type.Boolean(), evidence: Type.String() })),
});

export default workflow({
	name: "verify-claims",
	description:
		"Independent reviewers in fresh contexts judge a claim against criteria with evidence; the decision is reduced by code",
	inputs: {
		claim: Type.String({ minLength: 1, description: "What is claimed (a change is correct, a bug is fixed, ...)" }),
		criteria: Type.Array(Type.String({ minLength: 1 }), {
			minItems: 1,
			description: "What must hold for it to pass",
		}),
		target: Type.Optional(Type.String({ description: "What to inspect: paths, a diff, a branch or a range" })),
		reviewers: Type.Optional(Type.Integer({ minimum: 1, maximum: 9, description: "How many (default 3)" })),
		models: Type.Optional(
			Type.Array(Type.String(), { description: "Models the reviewers take in turn (provider/id[:level])" }),
		),
		rule: Type.Optional(
			Type.Union([Type.Literal("majority"), Type.Literal("unanimous")], {
				description: "majority (default): more passes than half; unanimous: every reviewer passes",
			}),
		),
	},
	outputs: {
		decision: Type.Union([Type.Literal("accepted"), Type.Literal("rejected")]),
		rule: Type.String(),
		passes: Type.Integer(),
		fails: Type.Integer(),
		verdicts: Type.Array(ReviewerVerdict),
	},
	run: async (ctx) => {
		const count = ctx.inputs.reviewers ?? 3;
		const rule = ctx.inputs.rule ?? "majority";
		const models = ctx.inputs.models ?? [];
		const criteria = ctx.inputs.criteria.map((criterion, index) => `${index + 1}. ${criterion}`).join("\n");
		const prompt = [
			`Claim: ${ctx.inputs.claim}`,
			...(ctx.inputs.target ? [`Inspect: ${ctx.inputs.target}`] : []),
			`Criteria:\n${criteria}`,
			"Judge the claim yourself, from what you can read and run: assume nothing you did not check. Pass only when every criterion is met. Submit your verdict with the evidence for it, and each criterion with whether it is met and why.",
		].join("\n\n");
		const results = await ctx.parallel(
			Array.from({ length: count }, (_, index) => {
				const model = models.length > 0 ? models[index % models.length] : undefined;
				return {
					name: `reviewer-${index + 1}`,
					prompt,
					context: "fresh" as const,
					tools: ["read", "ls", "grep", "find", "bash"],
					schema: Verdict,
					...(model ? { model } : {}),
				};
			}),
			// Every reviewer judges: one failing to answer does not stop the others.
			{ failFast: false },
		);
		const verdicts = results.map((result) => {
			const submitted = result.structured as Static<typeof Verdict>;
			return { reviewer: result.id, model: result.model, ...submitted };
		});
		const passes = verdicts.filter((verdict) => verdict.verdict === "pass").length;
		const fails = verdicts.length - passes;
		const accepted = rule === "unanimous" ? fails === 0 : passes * 2 > verdicts.length;
		const decision: "accepted" | "rejected" = accepted ? "accepted" : "rejected";
		return { decision, rule, passes, fails, verdicts };
	},
});
