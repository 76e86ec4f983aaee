// The language switch comes back to the page as it is now: when htmx applies filters and pushes
// the new address (the people list), the link's `next` follows it (the server wrote the
// address the page was loaded at; web/language.py switch_link).
document.addEventListener("htmx:pushedIntoHistory", () => {
  const link = document.querySelector("[data-testid=lang-switch]");
  if (!link) return;
  const target = new URL(link.href);
  const here = new URLSearchParams(location.search);
  here.delete("lang");
  const query = here.toString();
  target.searchParams.set("next", location.pathname + (query ? `?${query}` : ""));
  link.href = target.pathname + target.search;
});
