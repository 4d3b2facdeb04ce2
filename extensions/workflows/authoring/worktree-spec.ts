// The `worktree` option of a stage or a workflow, checked as data: `true`, or `{ base?, carry?, link? }`.

/** Problems of a `worktree` option, as data. */
export function worktreeProblem(given: unknown, where = "worktree"): string | undefined {
	if (given === undefined || typeof given === "boolean") return undefined;
	if (typeof given !== "object" || given === null || Array.isArray(given)) {
		return `${where}: expected true or { base?, carry?, link? }, got ${JSON.stringify(given)}`;
	}
	const { base, carry, link, ...rest } = given as Record<string, unknown>;
	const unknown = Object.keys(rest);
	if (unknown.length > 0)
		return `${where}: unknown key ${unknown.map((key) => `"${key}"`).join(", ")}; expected base, carry, link`;
	if (base !== undefined && (typeof base !== "string" || base.trim() === ""))
		return `${where}.base: expected a ref (a branch, tag or commit), got ${JSON.stringify(base)}`;
	if (carry !== undefined && typeof carry !== "boolean")
		return `${where}.carry: expected true or false, got ${JSON.stringify(carry)}`;
	if (link !== undefined && (!Array.isArray(link) || link.some((item) => typeof item !== "string" || item === "")))
		return `${where}.link: expected an array of paths relative to the repository root, got ${JSON.stringify(link)}`;
	return undefined;
}
