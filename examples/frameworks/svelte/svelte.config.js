// Here so that svelte-check does not look further up for a Vite configuration (the repository's).
export default {};
