/**
 * `latch.logout()`'s sign-out (../client/logout.ts), as a chunk (dist/latch-logout.js): loaded at
 * the first call. The account menu's "Sign out" has its own copy.
 */
import { logout } from '../client/logout.ts';

export default logout;
