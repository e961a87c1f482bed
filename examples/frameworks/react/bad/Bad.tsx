import type {} from 'latch/types/react';

export function Bad() {
  return (
    <>
      <latch-login mode="sideways" />
      <latch-login onlatch-login={(event) => event.detail.nope} />
      <latch-login prompt="maybe" />
      <latch-user field={42} />
      <latch-login onlatch-expiring={(event) => event.detail.expiresAt.toUpperCase()} />
    </>
  );
}
