// Latch's elements in Svelte templates.
import type {} from 'latch/types/svelte';
