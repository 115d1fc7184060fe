/** The demo's layout: the sign-up form on one side, the virtual phone on the other. */
export function DemoPage() {
  return (
    <main>
      <h1>flashverify demo</h1>
    </main>
  );
}
