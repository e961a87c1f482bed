import type {} from 'latch/types/react';
import { useState } from 'react';

export function App() {
  const [name, setName] = useState<string | null>(null);
  return (
    <header>
      <latch-login
        bff="https://auth.example.com"
        mode="popup"
        return-to="/account"
        onlatch-login={(event) => setName(event.detail.user.name ?? null)}
        onlatch-logout={() => setName(null)}
        onlatch-error={(event) => console.warn(event.detail.code, event.detail.source)}
      />
      <latch-gate claim="email_verified">
        <p>Hello, <latch-user field="given_name">{name}</latch-user></p>
        <p slot="anonymous">Sign in to see your orders.</p>
      </latch-gate>
    </header>
  );
}
