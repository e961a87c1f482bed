// @custom-elements-manifest/analyzer's settings beyond the command line (scripts/custom-elements.ts):
// it would otherwise rewrite package.json's `customElements` to its temporary output on every build.
export default { packagejson: false };
