// The findings of review-change: the shape a reviewer submits (severity, file, line, evidence, suggestion), the
// same tagged with its reviewer once code has it, and the rule code applies at both steps: a finding without
// evidence (or without a file) is left out and counted, whoever wrote it.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Static, Type } from "typebox";

/** The artifact the reviewers' evidenced findings are handed to the synthesis in. */
export const FINDINGS_FILE = "findings.json";

const Severity = Type.Union(
	[Type.Literal("blocker"), Type.Literal("major"), Type.Literal("minor"), Type.Literal("nit")],
	{
		description: "blocker: must be fixed before it ships; major, minor, nit: worth doing, in falling weight",
	},
);

const findingFields = {
	severity: Severity,
	file: Type.String({ description: "Path of the file, relative to the project" }),
	line: Type.Integer({ minimum: 0, description: "Line the finding is about (0: the whole file)" }),
	evidence: Type.String({
		description: "What you saw that shows it: quoted code, command output. A finding without evidence is dropped",
	}),
	suggestion: Type.String({ description: "What to do about it" }),
};

/** One finding as a reviewer submits it. */
export const Finding = Type.Object(findingFields);
export type Finding = Static<typeof Finding>;

/** A finding with the reviewer it came from: what findings.json, the synthesis and the outputs carry. */
export const ReviewedFinding = Type.Object({
	reviewer: Type.Union([Type.Literal("correctness"), Type.Literal("maintainability")], {
		description: "The reviewer that reported it",
	}),
	...findingFields,
});
export type ReviewedFinding = Static<typeof ReviewedFinding>;

/** What each reviewer submits. */
export const ReviewerFindings = Type.Object({
	findings: Type.Array(Finding, { description: "Every finding, each with its evidence; none when there is none" }),
});

/** What the synthesis submits. */
export const Synthesis = Type.Object({
	summary: Type.String({ description: "The verdict in a few sentences, the most important first" }),
	blockers: Type.Array(ReviewedFinding, { description: "Findings that must be fixed before the change ships" }),
	suggestions: Type.Array(ReviewedFinding, { description: "Findings worth doing that do not block it" }),
});

/** Whether a finding carries what it needs to be acted on: a file and evidence. */
export function hasEvidence(finding: Finding): boolean {
	return finding.evidence.trim() !== "" && finding.file.trim() !== "";
}

/** The findings with evidence, and how many were left out. */
export function keepEvidenced<F extends Finding>(findings: readonly F[]): { kept: F[]; dropped: number } {
	const kept = findings.filter(hasEvidence);
	return { kept, dropped: findings.length - kept.length };
}

/** The reviewer a finding came from. */
export type Reviewer = ReviewedFinding["reviewer"];

/** The finding's own fields with its reviewer, and nothing else a model may have added. */
export function tagFinding(reviewer: Reviewer, finding: Finding): ReviewedFinding {
	const { severity, file, line, evidence, suggestion } = finding;
	return { reviewer, severity, file, line, evidence, suggestion };
}

/** Writes the findings the synthesis reads to `<runDir>/artifacts/findings.json`; returns its path. */
export function writeFindingsFile(runDir: string, findings: readonly ReviewedFinding[]): string {
	const file = join(runDir, "artifacts", FINDINGS_FILE);
	mkdirSync(dirname(file), { recursive: true });
	writeFileSync(file, `${JSON.stringify(findings, null, 2)}\n`);
	return file;
}
