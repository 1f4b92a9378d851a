-- Next-edit proposals from the real server: renaming a parameter in the signature makes the
-- server propose renaming its use in the body (spark/nextEditAvailable → spark/nextEdit); the
-- plugin shows it as virtual text, the accept key jumps to it and then applies it. The scripted
-- model answers next-edit prompts whose history shows the rename with the rewritten window.
local H = dofile(vim.env.SPARK_PLUGIN_DIR .. '/tests/helpers.lua')

H.run(function()
  H.capture_messages()
  local spark = require('spark_lsp')
  local ne = require('spark_lsp.next_edit')
  spark.setup({ settings = { nextEdit = { debounceMs = 50 } } })
  local buf = H.open('area.py', {
    'def area(w, h):',
    '    return w * h',
    '',
    '',
    'print(area(2, 3))',
  }, 'python')
  local client = H.client(buf)
  local experimental = client.server_capabilities.experimental or {}
  if not (experimental.spark and experimental.spark.nextEdit) then
    H.skip('the server does not announce experimental.spark.nextEdit')
  end
  H.ok('the server announces spark/nextEdit')
  H.ready(client)
  local accept = vim.fn.maparg('<M-n>', 'n', false, true)
  H.check(accept.buffer == 1 and accept.callback ~= nil, 'accept key <M-n> is mapped')
  H.check(accept.callback() == '<M-n>', 'without a proposal the key types itself')

  -- The user renames w -> width in the signature.
  vim.api.nvim_buf_set_text(buf, 0, 9, 0, 10, { 'width' })
  local proposal = H.wait(10000, function() return ne.proposals[buf] end,
    'a next-edit proposal (spark/nextEditAvailable, then spark/nextEdit)')
  H.check(proposal.version == vim.lsp.util.buf_versions[buf], 'the proposal is for this version')
  local marks = vim.api.nvim_buf_get_extmarks(buf, ne.ns, 0, -1, { details = true })
  local shown = {}
  for _, mark in ipairs(marks) do
    for _, chunk in ipairs(mark[4].virt_text or {}) do
      table.insert(shown, ('%d:%d:%s'):format(mark[2], mark[3], chunk[1]))
    end
  end
  H.check(vim.deep_equal(shown, { '1:12:idth' }), 'the proposal shows as virtual text at line 2',
    shown)
  H.check(H.lines(buf)[2] == '    return w * h', 'the buffer is unchanged while it shows')

  -- First press: the cursor is elsewhere, so it jumps; second press: it accepts.
  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  H.check(accept.callback() == '', 'the accept key acts on the proposal')
  H.wait(3000, function() return vim.api.nvim_win_get_cursor(0)[1] == 2 end,
    'the cursor to jump to the proposal')
  H.ok('jumped to line 2')
  H.check(ne.proposals[buf] ~= nil, 'the proposal still shows after the jump')
  accept.callback()
  H.wait(3000, function() return H.lines(buf)[2] == '    return width * h' end,
    'the accepted proposal in the buffer')
  H.ok('accepted: ' .. table.concat(H.lines(buf), ' | '))
  H.check(#vim.api.nvim_buf_get_extmarks(buf, ne.ns, 0, -1, {}) == 0, 'the proposal is gone')

  -- Edits are for the version they were computed on: older ones are never shown.
  local edit = { range = { start = { line = 4, character = 0 }, ['end'] = { line = 4, character = 0 } },
    newText = '# ' }
  local now = vim.lsp.util.buf_versions[buf]
  H.check(ne.show(buf, client.id, { version = now - 1, edits = { edit } }) == false,
    'a proposal for an older version is not shown')
  H.check(ne.show(buf, client.id, { version = now, edits = { edit } }) == true,
    'a proposal for this version is shown')
  local dismiss = vim.fn.maparg('<M-x>', 'i', false, true)
  H.check(dismiss.callback() == '', 'the dismiss key acts on the proposal')
  H.wait(3000, function() return ne.proposals[buf] == nil end, 'the dismissed proposal to go')
  H.check(#vim.api.nvim_buf_get_extmarks(buf, ne.ns, 0, -1, {}) == 0, 'dismissed: nothing shows')
  H.check(H.lines(buf)[5] == 'print(area(2, 3))', 'dismissing changed nothing')
  H.check(#H.shown == 0, 'the server showed no error message', H.shown)
end)
