declare const __LATCH_VERSION__: string | undefined;

/** The package version, set by the build (`dev` when running from source). */
export const VERSION: string = typeof __LATCH_VERSION__ == 'string' ? __LATCH_VERSION__ : 'dev';
