-- Code actions through Neovim's own client: a listed action is resolved (codeAction/resolve)
-- and its edit applied; :SparkEdit runs spark.editSelection; the "Edit selection…" action runs
-- the client-side spark.promptEdit command, which prompts and edits.
-- Skipped only when the server does not advertise codeActionProvider.
local H = dofile(vim.env.SPARK_PLUGIN_DIR .. '/tests/helpers.lua')

--- Apply the one code action titled `title` over lines [first, last] (1-based, whole lines).
local function apply_action(bufnr, title, first, last)
  local last_text = vim.api.nvim_buf_get_lines(bufnr, last - 1, last, true)[1]
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.title == title
    end,
    range = { start = { first, 0 }, ['end'] = { last, math.max(0, #last_text - 1) } },
  })
end

H.run(function()
  H.capture_messages()
  local spark = require('spark_lsp')
  spark.setup({})
  local buf = H.open('double.py', {
    'def double(x):',
    '    y = x + x',
    '    return y',
  }, 'python')
  local client = H.client(buf)
  if not client.server_capabilities.codeActionProvider then
    H.fail('the server does not advertise codeActionProvider')
  end
  H.ready(client)
  local provider = client.server_capabilities.codeActionProvider
  H.check(type(provider) == 'table' and provider.resolveProvider == true,
    'server resolves code actions', provider)

  -- 1. A rewrite action, resolved when picked.
  apply_action(buf, 'Spark: Simplify', 1, 3)
  H.wait(10000, function()
    return vim.deep_equal(H.lines(buf), { 'def double(x):', '    return x * 2' })
  end, 'the resolved "Spark: Simplify" edit in the buffer')
  H.ok('Spark: Simplify resolved and applied: ' .. table.concat(H.lines(buf), ' | '))

  -- 2. :SparkEdit with an instruction: workspace/executeCommand spark.editSelection.
  local commands = (client.server_capabilities.executeCommandProvider or {}).commands or {}
  H.check(vim.list_contains(commands, spark.EDIT_COMMAND), 'server offers spark.editSelection',
    commands)
  vim.cmd('1,2SparkEdit rename to twice')
  H.wait(10000, function()
    return vim.deep_equal(H.lines(buf), { 'def twice(x):', '    return x * 2' })
  end, 'the :SparkEdit result in the buffer')
  H.ok(':SparkEdit applied: ' .. table.concat(H.lines(buf), ' | '))

  -- 3. "Edit selection…": spark.promptEdit asks for the instruction (vim.ui.input), then edits.
  local prompted
  vim.ui.input = function(opts, on_confirm)
    prompted = opts.prompt
    on_confirm('add type hints')
  end
  apply_action(buf, 'Spark: Edit selection…', 1, 2)
  H.wait(10000, function()
    return vim.deep_equal(H.lines(buf), { 'def twice(x: int) -> int:', '    return x * 2' })
  end, 'the prompted edit in the buffer')
  H.check(prompted ~= nil, 'the instruction was asked with vim.ui.input', prompted)
  -- Neovim (like VS Code) sends codeAction/resolve for every action without an edit, including
  -- this command-only one: the server must hand it back unchanged, without an error popup.
  H.check(#H.shown == 0, 'the server showed no error message', H.shown)
end)
