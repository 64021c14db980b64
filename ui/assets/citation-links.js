// Clicking a citation number [n] in a chat bubble opens it in the sources panel.
// Runs as the js_on_load of a hidden gr.HTML: `props` and `trigger` belong to that component.
if (window.__meridianCite) document.removeEventListener('click', window.__meridianCite, true);
window.__meridianCite = (event) => {
  const link = event.target.closest ? event.target.closest('a[href^="#cite-"]') : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  props.value = link.getAttribute('href').slice(6) + '-' + Date.now();
  trigger('click');
  const panel = document.querySelector('#sources-card');
  if (panel && window.innerWidth < 900) panel.scrollIntoView({behavior: 'smooth', block: 'start'});
};
document.addEventListener('click', window.__meridianCite, true);
