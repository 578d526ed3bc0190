/*
 * render_script.c - what makes the HTML page (casie_doc_to_html, `casie
 * render`) act: the filter form by subtype, realis and minimum score, the
 * place of the table of contents, and the inline script (the page still makes
 * no request) that fills the one and applies the other.
 *
 * The filters act on every document section: an event that fails them hides
 * its summary row and its event card; a hopper's summary heading and card
 * when all its events are hidden; and a highlighted span in the article loses
 * its highlight (class "off"; its text stays) when all the events it belongs
 * to are hidden, with every continuation element of the span (data-m, the
 * span's number in its section) following its first one (data-ev, the
 * events "h.i").  Event ids are per section: two documents both have a "1.1".
 *
 * The table of contents (a page of two documents or more: each one's title,
 * its events shown under the filters, a link to its section) is built by the
 * script when the page loads.  The page is written as a stream (the head,
 * then each document, then the end: casie_doc_to_html with CASIE_HTML_HEAD,
 * 0, CASIE_HTML_TAIL) so that `casie render` holds one document at a time;
 * the head, where a static table would go, is written before any document
 * is known.  Writing the table at the end and moving it up with CSS would
 * read out of order to a screen reader, and holding every title until the
 * end would change the API; the counts under the filters need the script
 * anyway.  So the head holds an empty, hidden <nav id="toc"> and the script
 * gives each section an id (doc-1, doc-2, ...) and lists it there.
 *
 * Not here: the elements the script reads (render_html.c, render_summary.c).
 */
#include "internal.h"
#include "render.h"

#include <stdio.h>

void casie__html_filters(FILE *f) {
    fputs("<form class=\"filters\" id=\"filters\"><b>Show:</b> <label>subtype <select id=\"f-subtype\">"
          "<option value=\"\">all</option>",
          f);
    for (int s = 0; s < CASIE_N_SUBTYPES; s++)
        fprintf(f, "<option>%s</option>", casie_subtype_name(s));
    fputs("</select></label> <label>realis <select id=\"f-realis\"><option value=\"\">all</option>", f);
    for (int r = 0; r < CASIE_N_REALIS; r++)
        fprintf(f, "<option>%s</option>", casie_realis_name(r));
    fputs("</select></label> <label>minimum score <input id=\"f-score\" type=\"number\" min=\"0\" max=\"1\" "
          "step=\"0.05\" value=\"0\"></label> <span id=\"f-count\"></span></form>\n"
          "<nav id=\"toc\" hidden><b>Documents</b><ol></ol></nav>\n",
          f);
}

void casie__html_script(FILE *f) {
    /* one pass over each section per change: linear in the page */
    fputs("<script>\n"
          "(function () {\n"
          "  var st = document.getElementById('f-subtype'), re = document.getElementById('f-realis'),\n"
          "      sc = document.getElementById('f-score'), count = document.getElementById('f-count'),\n"
          "      toc = document.getElementById('toc'), secs = document.querySelectorAll('section.doc'), counts = [];\n"
          "  /* the table of contents, built here: the head was written before the documents */\n"
          "  if (toc && secs.length > 1) {\n"
          "    var ol = toc.querySelector('ol');\n"
          "    secs.forEach(function (s, k) {\n"
          "      if (!s.id) s.id = 'doc-' + (k + 1);\n"
          "      var li = document.createElement('li'), a = document.createElement('a'),\n"
          "          n = document.createElement('span'), h = s.querySelector('h2');\n"
          "      a.href = '#' + s.id;\n"
          "      a.textContent = h ? h.textContent : s.id;\n"
          "      n.className = 'n';\n"
          "      li.appendChild(a);\n"
          "      li.appendChild(document.createTextNode(' '));\n"
          "      li.appendChild(n);\n"
          "      ol.appendChild(li);\n"
          "      counts[k] = n;\n"
          "    });\n"
          "    toc.hidden = false;\n"
          "  }\n"
          "  function apply() {\n"
          "    var min = parseFloat(sc.value) || 0, shown = 0, total = 0;\n"
          "    secs.forEach(function (s, k) {\n"
          "      var on = {}, hop = {}, lit = {}, n = 0, all = 0;\n"
          "      s.querySelectorAll('div.event[data-ev]').forEach(function (e) {\n"
          "        var ok = (!st.value || e.dataset.subtype === st.value) &&\n"
          "                 (!re.value || e.dataset.realis === re.value) && parseFloat(e.dataset.score) >= min;\n"
          "        e.hidden = !ok; all++;\n"
          "        if (ok) { n++; on[e.dataset.ev] = true; hop[e.dataset.hopper] = true; }\n"
          "      });\n"
          "      s.querySelectorAll('tr.ev').forEach(function (r) { r.hidden = !on[r.dataset.ev]; });\n"
          "      s.querySelectorAll('tr.hop, div.hopper').forEach(function (h) { h.hidden = !hop[h.dataset.hopper]; "
          "});\n"
          "      s.querySelectorAll('mark[data-ev]').forEach(function (m) {\n"
          "        lit[m.dataset.m] = m.dataset.ev.split(' ').some(function (id) { return on[id]; });\n"
          "      });\n"
          "      s.querySelectorAll('mark[data-m]').forEach(function (m) { m.classList.toggle('off', "
          "!lit[m.dataset.m]); });\n"
          "      if (counts[k]) counts[k].textContent = n + ' of ' + all + ' event' + (all === 1 ? '' : 's');\n"
          "      shown += n; total += all;\n"
          "    });\n"
          "    count.textContent = shown + ' of ' + total + ' events shown';\n"
          "  }\n"
          "  [st, re, sc].forEach(function (e) { e.addEventListener('input', apply); e.addEventListener('change', "
          "apply); });\n"
          "  apply();\n"
          "})();\n"
          "</script>\n",
          f);
}
