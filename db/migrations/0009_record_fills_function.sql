-- Fill persistence in one statement (db/repositories/fills.ts, issue 16): `record_fills` does in
-- the server what `recordFillsInTransaction` does over five round trips. The position arithmetic
-- is domain/ledger.ts applyFillToPosition transcribed in integer micros and hundredths of a
-- contract ("lots"); test/db/record-fills-sql.test.ts applies random fill sequences through both
-- and compares every column. Anything it cannot do exactly it refuses with its own SQLSTATE, and
-- the caller then takes the TypeScript path for that batch:
--   RF001  a trade ID already recorded with other content (the caller names the fields)
--   RF002  a value outside JavaScript's safe integers (the caller's ArithmeticOverflow)

-- round(a * b / c), half away from zero, exact (domain/money.ts mulDiv).
CREATE FUNCTION ledger_mul_div(a numeric, b numeric, c numeric) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  n numeric := a * b;
  q numeric := div(abs(n), abs(c));
BEGIN
  IF 2 * mod(abs(n), abs(c)) >= abs(c) THEN q := q + 1; END IF;
  IF (n < 0) <> (c < 0) THEN RETURN -q; END IF;
  RETURN q;
END;
$$;
--> statement-breakpoint
-- One fill of the batch as the function reads it (its JSON argument is parsed once, into these).
CREATE TYPE record_fills_input AS (i int, t text, o text, a text, m text, s text, q numeric, p numeric, f numeric, at timestamptz, d date);
--> statement-breakpoint
-- p_fills: a JSON array of distinct fills in execution order, each
--   {"t": trade ID, "o": client order ID, "a": account, "m": market, "s": "BUY"|"SELL",
--    "q": lots (integer hundredths), "p": price micros, "f": fee micros, "ms": epoch ms, "d": trading day}
-- Returns one row per fill (o_trade_id, o_inserted) and then one per position a new fill moved,
-- after the batch (o_trade_id null), with its columns as stored.
CREATE FUNCTION record_fills(p_fills jsonb)
RETURNS TABLE (o_trade_id text, o_inserted boolean, o_account text, o_market_id text,
               o_quantity numeric, o_cost_basis numeric, o_realized_pnl numeric, o_fees numeric)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_batch record_fills_input[];
  v_new text[];
  v_conflict text;
  x record;
  pos record;
  held numeric; signed_lots numeric; fill_value numeric; new_fees numeric; new_lots numeric;
  new_cost numeric; new_realized numeric; held_abs numeric; closed numeric; removed numeric; exit_value numeric;
BEGIN
  v_batch := ARRAY(
    SELECT ROW(b.i, b.t, b.o, b.a, b.m, b.s, b.q, b.p, b.f, timestamptz 'epoch' + b.ms * interval '1 millisecond', b.d)::record_fills_input
    FROM ROWS FROM (jsonb_to_recordset(p_fills) AS (t text, o text, a text, m text, s text, q numeric, p numeric, f numeric, ms bigint, d date))
         WITH ORDINALITY AS b(t, o, a, m, s, q, p, f, ms, d, i)
    ORDER BY b.i);
  -- Trade IDs first, in sorted order (the same lock order as the TypeScript path).
  WITH ins AS (
    INSERT INTO fills (trade_id, client_order_id, account, market_id, side, quantity, price, fee, filled_at, trading_day)
    SELECT b.t, b.o, b.a, b.m, b.s, b.q * 0.01, b.p * 0.000001, b.f * 0.000001, b.at, b.d
    FROM unnest(v_batch) b
    ORDER BY b.t COLLATE "C"
    ON CONFLICT (trade_id) DO NOTHING
    RETURNING fills.trade_id
  )
  SELECT coalesce(array_agg(ins.trade_id), '{}') INTO v_new FROM ins;

  -- Only a repeat can conflict: when every fill was new there is nothing to compare.
  IF cardinality(v_new) < cardinality(v_batch) THEN
    SELECT b.t INTO v_conflict
    FROM unnest(v_batch) b
    JOIN fills s ON s.trade_id = b.t
    WHERE NOT (b.t = ANY (v_new))
      AND (s.client_order_id, s.account, s.market_id, s.side, s.quantity, s.price, s.fee, s.filled_at, s.trading_day)
          IS DISTINCT FROM (b.o, b.a, b.m, b.s, b.q * 0.01, b.p * 0.000001, b.f * 0.000001, b.at, b.d)
    LIMIT 1;
    IF v_conflict IS NOT NULL THEN
      RAISE EXCEPTION 'fill % is already recorded with other content', v_conflict USING ERRCODE = 'RF001';
    END IF;
  END IF;

  RETURN QUERY SELECT b.t, b.t = ANY (v_new), NULL::text, NULL::text, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric
    FROM unnest(v_batch) b ORDER BY b.i;
  IF cardinality(v_new) = 0 THEN RETURN; END IF;

  -- Creates missing positions, then locks all of them in key order.
  INSERT INTO positions (account, market_id)
  SELECT DISTINCT b.a, b.m FROM unnest(v_batch) b WHERE b.t = ANY (v_new)
  ON CONFLICT (account, market_id) DO NOTHING;
  PERFORM 1 FROM positions p
  WHERE (p.account, p.market_id) IN (SELECT b.a, b.m FROM unnest(v_batch) b WHERE b.t = ANY (v_new))
  ORDER BY p.account COLLATE "C", p.market_id COLLATE "C"
  FOR UPDATE;

  FOR x IN SELECT * FROM unnest(v_batch) b WHERE b.t = ANY (v_new) ORDER BY b.i
  LOOP
    SELECT p.quantity * 100 AS lots, p.cost_basis * 1000000 AS cost, p.realized_pnl * 1000000 AS realized, p.fees * 1000000 AS fees
      INTO pos FROM positions p WHERE p.account = x.a AND p.market_id = x.m;
    -- domain/ledger.ts applyFillToPosition, in lots and micros.
    held := pos.lots;
    signed_lots := CASE WHEN x.s = 'BUY' THEN x.q ELSE -x.q END;
    new_fees := pos.fees + x.f;
    -- notional(price, quantity): price × lots × 0.01 is exact (numeric multiplication), round() is half away from zero.
    fill_value := round(x.p * signed_lots * 0.01);
    new_lots := held + signed_lots;
    new_realized := pos.realized;
    removed := 0; exit_value := 0;
    IF held = 0 OR (held > 0) = (signed_lots > 0) THEN
      new_cost := pos.cost + fill_value;
    ELSE
      held_abs := abs(held);
      closed := least(x.q, held_abs);
      removed := CASE WHEN closed = held_abs THEN pos.cost ELSE ledger_mul_div(pos.cost, closed, held_abs) END;
      exit_value := round(x.p * CASE WHEN held > 0 THEN closed ELSE -closed END * 0.01);
      new_realized := pos.realized + (exit_value - removed);
      new_cost := CASE WHEN x.q - closed > 0 THEN fill_value + exit_value WHEN closed = held_abs THEN 0 ELSE pos.cost - removed END;
    END IF;
    -- Every figure the TypeScript path checks with Number.isSafeInteger, checked at once.
    IF greatest(abs(new_fees), abs(fill_value), abs(new_lots), abs(new_cost), abs(new_realized), abs(removed), abs(exit_value)) > 9007199254740991 THEN
      RAISE EXCEPTION 'ledger figure of fill % out of the safe integer range', x.t USING ERRCODE = 'RF002';
    END IF;

    UPDATE positions p SET quantity = new_lots * 0.01, cost_basis = new_cost * 0.000001, realized_pnl = new_realized * 0.000001,
      fees = new_fees * 0.000001, fill_count = p.fill_count + 1, last_trade_id = x.t, updated_at = now()
    WHERE p.account = x.a AND p.market_id = x.m;
    INSERT INTO position_history (account, market_id, trade_id, cause, trading_day, quantity, cost_basis, realized_pnl, fees,
                                  realized_delta, fee, contracts_traded, notional_traded, changed_at)
    VALUES (x.a, x.m, x.t, 'FILL', x.d, new_lots * 0.01, new_cost * 0.000001, new_realized * 0.000001, new_fees * 0.000001,
            (new_realized - pos.realized) * 0.000001, x.f * 0.000001, x.q * 0.01, round(x.p * x.q * 0.01) * 0.000001, x.at);
    INSERT INTO audit_log (event_key, kind, client_order_id, market_id, occurred_at, payload)
    VALUES ('FILL:' || x.t, 'FILL', x.o, x.m, x.at, jsonb_build_object(
      'tradeId', x.t, 'account', x.a, 'side', x.s, 'quantity', x.q * 0.01, 'price', x.p, 'fee', x.f,
      'positionAfter', jsonb_build_object('quantity', new_lots * 0.01, 'costBasis', new_cost, 'realizedPnl', new_realized, 'fees', new_fees)))
    ON CONFLICT (event_key) DO NOTHING;
  END LOOP;

  -- The order's fill notional as the order state machine computes it (notional(price, quantity)).
  UPDATE orders o SET filled_quantity = o.filled_quantity + v.q * 0.01, fill_notional = o.fill_notional + v.n * 0.000001, fees = o.fees + v.f * 0.000001
  FROM (
    SELECT b.o, sum(b.q) AS q, sum(round(b.p * b.q * 0.01)) AS n, sum(b.f) AS f
    FROM unnest(v_batch) b WHERE b.t = ANY (v_new) GROUP BY b.o
  ) v
  WHERE o.client_order_id = v.o;

  RETURN QUERY SELECT NULL::text, true, p.account, p.market_id, p.quantity, p.cost_basis, p.realized_pnl, p.fees
    FROM positions p JOIN (SELECT DISTINCT b.a, b.m FROM unnest(v_batch) b WHERE b.t = ANY (v_new)) k
      ON p.account = k.a AND p.market_id = k.m
    ORDER BY p.account COLLATE "C", p.market_id COLLATE "C";
END;
$$;
